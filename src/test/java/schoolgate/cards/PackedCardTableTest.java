package schoolgate.cards;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packed card table where the newest-card properties do not reach: growth and rehash,
 * uid lengths and the fallback map, removal from the open-addressing table, exact round trips
 * of names and mark times, and readers racing a writer.
 */
class PackedCardTableTest {

  private static final Instant NOW = Instant.parse("2026-11-24T05:00:00.123456789Z");

  private long seq;

  private void holder(CardTable t, String id, String name, boolean active) {
    t.apply(new CardEvent.HolderChange(++seq, id, name, "5А", active, CardEvent.PhotoChange.KEEP, null), NOW);
  }

  private void card(CardTable t, String uid, String holder, int issue, boolean active) {
    t.apply(new CardEvent.CardChange(++seq, uid, holder, issue, Card.Kind.PERMANENT, active), NOW);
  }

  @Test
  void uidsOfDifferentLengthsWithTheSameValueAreDifferentCards() {
    CardTable t = new CardTable();
    holder(t, "h-1", "Иванова Мария", true);
    holder(t, "h-2", "Петров Пётр", true);
    card(t, "0000000A", "h-1", 1, true);
    card(t, "0000000000000A", "h-2", 1, true);
    card(t, "0000000000000000000A", "h-2", 2, true);
    assertEquals(3, t.cardCount());
    assertEquals("h-1", t.decide("0000000A").holderId());
    assertEquals("h-2", t.decide("0000000000000A").holderId());
    assertEquals(Reason.SUPERSEDED, t.decide("0000000000000A").reason());
    assertEquals(Reason.OK, t.decide("0000000000000000000A").reason());
    assertEquals(Reason.UNKNOWN_CARD, t.decide("000000000A").reason());
    assertNotEquals(CardSlots.key("0000000A"), CardSlots.key("0000000000000A"));
  }

  @Test
  void twentyDigitUidsLiveInTheFallbackMapAndBehaveTheSame() {
    CardTable t = new CardTable();
    holder(t, "h-1", "Иванова Мария", true);
    card(t, "0102030405060708090A", "h-1", 1, true);
    card(t, "FFFFFFFFFFFFFFFFFFFF", "h-1", 2, true);
    assertEquals(2, t.fallbackCards());
    assertEquals(Reason.SUPERSEDED, t.decide("0102030405060708090A").reason());
    assertEquals(NOW, t.decide("0102030405060708090A").replacedAt());
    assertEquals(Reason.OK, t.decide("FFFFFFFFFFFFFFFFFFFF").reason());
    t.apply(new CardEvent.HolderRemoved(++seq, "h-1"), NOW);
    assertEquals(0, t.fallbackCards());
    assertEquals(0, t.cardCount());
    assertEquals(Reason.UNKNOWN_CARD, t.decide("FFFFFFFFFFFFFFFFFFFF").reason());
  }

  /** The table is keyed by the canonical (upper-case) uid, as before: other spellings are not looked up. */
  @Test
  void onlyTheCanonicalSpellingIsFound() {
    CardTable t = new CardTable();
    holder(t, "h-1", "x", true);
    card(t, "ABCDEF01", "h-1", 1, true);
    assertEquals(Reason.OK, t.decide("ABCDEF01").reason());
    assertEquals(Reason.UNKNOWN_CARD, t.decide("abcdef01").reason());
    assertEquals(Reason.UNKNOWN_CARD, t.decide("").reason());
    assertEquals(0, CardSlots.key("abcdef01"));
    assertEquals(0, CardSlots.key("0123456789ABCDEF")); // 16 digits leave no room for the length
    assertNotEquals(0, CardSlots.key("0"));
  }

  @Test
  void growingThroughManyRehashesLosesNothing() {
    CardTable t = new CardTable();
    int holders = 60_000;
    for (int h = 0; h < holders; h++) {
      holder(t, "h-" + h, "Ученик " + h, true);
      card(t, String.format(Locale.ROOT, "%08X", h), "h-" + h, 1, true);
      card(t, String.format(Locale.ROOT, "%014X", 0x04000000000000L + h), "h-" + h, 2, true);
    }
    assertEquals(2 * holders, t.cardCount());
    assertEquals(holders, t.holderCount());
    assertTrue(t.cardCapacity() >= 2 * holders * 4 / 3, "capacity " + t.cardCapacity());
    for (int h = 0; h < holders; h++) {
      Verdict old = t.decide(String.format(Locale.ROOT, "%08X", h));
      Verdict newest = t.decide(String.format(Locale.ROOT, "%014X", 0x04000000000000L + h));
      assertEquals(Reason.SUPERSEDED, old.reason());
      assertEquals(Reason.OK, newest.reason());
      assertEquals("Ученик " + h, newest.holder().name());
      assertEquals("5А", newest.holder().className());
    }
    int seen = 0;
    for (Holder h : t.holders()) {
      seen++;
      assertTrue(h.name().startsWith("Ученик "));
    }
    assertEquals(holders, seen);
  }

  /** Random puts and removals on a small table (probe runs wrap around the end) against a HashMap. */
  @Property(tries = 300)
  void openAddressingAgreesWithAMap(@ForAll @IntRange(min = 1, max = 400) int ops, @ForAll long seed) {
    Random random = new Random(seed);
    CardSlots slots = new CardSlots();
    Map<String, Long> model = new HashMap<>();
    List<String> pool = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      int len = random.nextInt(3) == 0 ? 14 : 8;
      pool.add(String.format(Locale.ROOT, "%0" + len + "X", random.nextInt(64)));
    }
    pool.add("0102030405060708090A");
    for (int i = 0; i < ops; i++) {
      String uid = pool.get(random.nextInt(pool.size()));
      if (random.nextInt(3) == 0) {
        assertEquals(model.remove(uid) != null, slots.remove(uid));
      } else {
        long v = CardSlots.pack(random.nextInt(1000), random.nextInt(), Card.Kind.TEMPORARY, random.nextBoolean());
        slots.put(uid, v);
        model.put(uid, v);
      }
      assertEquals(model.size(), slots.size());
      for (String u : pool) {
        assertEquals(model.getOrDefault(u, CardSlots.ABSENT), slots.get(u), u);
      }
    }
  }

  @Test
  void packedFieldsRoundTrip() {
    for (int issue : new int[] {Integer.MIN_VALUE, -1, 0, 1, 2, Integer.MAX_VALUE}) {
      for (int holder : new int[] {0, 1, 12345, CardSlots.MAX_HOLDERS - 1}) {
        for (Card.Kind kind : Card.Kind.values()) {
          for (boolean active : new boolean[] {true, false}) {
            long v = CardSlots.pack(holder, issue, kind, active);
            assertNotEquals(CardSlots.ABSENT, v);
            assertEquals(holder, CardSlots.holder(v));
            assertEquals(issue, CardSlots.issue(v));
            assertEquals(kind, CardSlots.kind(v));
            assertEquals(active, CardSlots.active(v));
          }
        }
      }
    }
  }

  @Test
  void namesAndMarkTimesComeBackExactly() {
    CardTable t = new CardTable();
    String lone = "Ann\uD800a"; // a lone surrogate: UTF-8 would lose it
    holder(t, "h-1", lone, true);
    holder(t, "h-2", "Иванова Мария Петровна", true);
    holder(t, "h-3", "Zoë 🙂", true);
    assertEquals(lone, t.holder("h-1").name());
    assertEquals("Иванова Мария Петровна", t.holder("h-2").name());
    assertEquals("Zoë 🙂", t.holder("h-3").name());
    card(t, "11111111", "h-2", 1, true);
    card(t, "22222222", "h-2", 2, true);
    assertEquals(NOW, t.decide("11111111").replacedAt());
    assertNull(t.decide("22222222").replacedAt());
  }

  @Test
  void aRemovedHolderKeepsItsMarkAndReturnsWithoutItsOldPhoto() {
    CardTable t = new CardTable();
    t.apply(new CardEvent.HolderChange(++seq, "h-1", "x", "1А", true, CardEvent.PhotoChange.REPLACE, new byte[] {1}), NOW);
    assertTrue(t.holder("h-1").hasPhoto());
    card(t, "AAAAAAAA", "h-1", 5, true);
    t.apply(new CardEvent.HolderRemoved(++seq, "h-1"), NOW);
    assertNull(t.holder("h-1"));
    assertEquals(0, t.holderCount());
    holder(t, "h-1", "x", true);
    assertEquals(false, t.holder("h-1").hasPhoto());
    card(t, "BBBBBBBB", "h-1", 4, true);
    assertEquals(Reason.SUPERSEDED, t.decide("BBBBBBBB").reason());
    t.apply(new CardEvent.HolderRemoved(++seq, "h-unknown"), NOW);
    assertEquals(1, t.cardCount());
  }

  /**
   * A writer adds holders and cards (through many rehashes) while readers decide every card
   * already applied: each must be found, with its holder, name and verdict; none may fail.
   */
  @Test
  @Timeout(60)
  void readersRacingTheWriterSeeEveryAppliedEventWhole() throws Exception {
    CardTable t = new CardTable();
    int holders = 40_000;
    AtomicInteger applied = new AtomicInteger(-1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> readers = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      int salt = r;
      Thread reader = new Thread(() -> {
        Random random = new Random(salt);
        try {
          while (applied.get() < holders - 1 && failure.get() == null) {
            int done = applied.get();
            if (done < 0) {
              continue;
            }
            int h = random.nextInt(done + 1);
            Verdict newest = t.decide(String.format(Locale.ROOT, "%014X", 0x04000000000000L + h));
            Verdict old = t.decide(String.format(Locale.ROOT, "%08X", h));
            assertEquals(Reason.OK, newest.reason(), "holder " + h);
            assertEquals("Ученик " + h, newest.holder().name());
            assertEquals(Reason.SUPERSEDED, old.reason(), "holder " + h);
            assertEquals(NOW, old.replacedAt());
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      });
      reader.start();
      readers.add(reader);
    }
    for (int h = 0; h < holders; h++) {
      holder(t, "h-" + h, "Ученик " + h, true);
      card(t, String.format(Locale.ROOT, "%08X", h), "h-" + h, 1, true);
      card(t, String.format(Locale.ROOT, "%014X", 0x04000000000000L + h), "h-" + h, 2, true);
      applied.set(h);
    }
    for (Thread reader : readers) {
      reader.join();
    }
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
  }
}
