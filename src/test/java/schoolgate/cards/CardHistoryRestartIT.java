package schoolgate.cards;

import io.vertx.core.Vertx;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import schoolgate.config.GatewayConfig;
import schoolgate.store.Database;
import schoolgate.support.GatewayFixture;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random histories delivered the way the uplink and {@code import} deliver them, through
 * {@link CardEventApplier} into a real PostgreSQL: in batches, shuffled within a batch, with
 * events already applied sent again, with gaps (refused, nothing applied), and with restarts
 * (the table thrown away and reloaded from the database) in between. After each delivery the
 * table, and a table freshly loaded from the database, decide every card as the reference
 * model of the applied prefix does.
 */
class CardHistoryRestartIT {

  private static Vertx vertx;
  private static Database database;
  private static Path dir;

  @BeforeContainer
  static void startDatabase() throws Exception {
    dir = Files.createTempDirectory("card-history-");
    vertx = Vertx.vertx();
    database = GatewayFixture.await(Database.open(vertx,
        new GatewayConfig.Db("embedded", dir.resolve("pg").toString(), 0, null, 4)));
  }

  @AfterContainer
  static void stopDatabase() throws Exception {
    if (database != null) {
      database.close();
    }
    if (vertx != null) {
      GatewayFixture.await(vertx.close());
    }
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** One delivery: how many new events, how many already applied ones re-sent, and what goes wrong. */
  record Delivery(int size, int resend, boolean duplicateInside, boolean gap, boolean restart) {
  }

  @Provide
  Arbitrary<List<Delivery>> deliveries() {
    return Combinators.combine(Arbitraries.integers().between(1, 8), Arbitraries.integers().between(0, 3),
            Arbitraries.of(true, false), Arbitraries.integers().between(0, 9).map(i -> i == 0),
            Arbitraries.integers().between(0, 3).map(i -> i == 0))
        .as(Delivery::new).list().ofMinSize(1).ofMaxSize(12);
  }

  @Provide
  Arbitrary<List<Histories.Step>> histories() {
    return Histories.steps(40);
  }

  @Property(tries = 150)
  void batchedShuffledRepeatedDeliveriesWithRestartsMatchTheModel(
      @ForAll("histories") List<Histories.Step> steps,
      @ForAll @IntRange(min = 1, max = 4) int holders,
      @ForAll @IntRange(min = 1, max = 6) int uids,
      @ForAll("deliveries") List<Delivery> deliveries,
      @ForAll Random random) throws Exception {
    reset();
    List<CardEvent> events = Histories.build(steps, holders, uids);
    CardTable table = load();
    CardEventApplier applier = new CardEventApplier(database.pool(), table, Clock.systemUTC());
    int applied = 0;
    for (int d = 0; applied < events.size(); d++) {
      // When the planned deliveries are used up, the rest comes in one piece.
      Delivery delivery = d < deliveries.size() ? deliveries.get(d)
          : new Delivery(events.size(), 0, false, false, false);
      int end = Math.min(events.size(), applied + delivery.size());
      // A gap: the next seq goes missing, later ones come.
      boolean gap = delivery.gap() && applied + 1 < events.size();
      long missing = events.get(applied).seq();
      List<CardEvent> batch = new ArrayList<>(gap
          ? events.subList(applied + 1, Math.min(events.size(), applied + 1 + delivery.size()))
          : events.subList(applied, end));
      batch.addAll(events.subList(Math.max(0, applied - delivery.resend()), applied));
      if (delivery.duplicateInside()) {
        batch.add(batch.get(random.nextInt(batch.size())));
      }
      Collections.shuffle(batch, random);
      String where = "delivery " + d + " " + delivery + " of " + events;
      if (gap) {
        try {
          GatewayFixture.await(applier.apply(batch));
          fail("a delivery with seq " + missing + " missing was applied: " + where);
        } catch (IllegalStateException e) {
          Throwable cause = e.getCause() instanceof ExecutionException || e.getCause() instanceof CompletionException
              ? e.getCause().getCause() : e.getCause();
          assertInstanceOf(CardEventApplier.SeqGap.class, cause, where);
        }
      } else {
        CardEventApplier.Result result = GatewayFixture.await(applier.apply(batch));
        assertEquals(end - applied, result.applied(), where);
        applied = end;
        assertEquals(applied, result.appliedSeq(), where);
      }
      List<CardEvent> prefix = events.subList(0, applied);
      assertSameDecisions(prefix, table, uids, where);
      assertSameDecisions(prefix, load(), uids, where + " (reloaded)");
      if (delivery.restart()) {
        table = load();
        applier = new CardEventApplier(database.pool(), table, Clock.systemUTC());
      }
    }
    assertSameDecisions(events, load(), uids, "the end of " + events);
  }

  private static void assertSameDecisions(List<CardEvent> prefix, CardTable table, int uids, String where) {
    ReferenceModel model = ReferenceModel.of(prefix);
    assertEquals(prefix.isEmpty() ? 0 : prefix.get(prefix.size() - 1).seq(), table.appliedSeq(), where);
    for (String uid : Histories.taps(uids)) {
      Verdict v = table.decide(uid);
      assertEquals(model.reason(uid), v.reason().wire(), "card " + uid + " after " + where);
      assertEquals(ReferenceModel.mayOpen(prefix, uid), v.open(), "card " + uid + " after " + where);
      if (v.open()) {
        assertEquals(model.card(uid).holder(), v.holder().id(), "card " + uid + " after " + where);
      }
    }
  }

  private static CardTable load() {
    return GatewayFixture.await(new CardRepository(database.pool()).load(new CardTable()));
  }

  private static void reset() {
    GatewayFixture.await(database.pool().query("TRUNCATE holders, cards, holder_marks").execute()
        .compose(v -> database.pool().query("UPDATE card_feed SET applied_seq = 0, last_event_at = NULL").execute()));
  }
}
