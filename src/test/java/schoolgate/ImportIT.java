package schoolgate;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.cards.CardRepository;
import schoolgate.cards.CardTable;
import schoolgate.cards.Reason;
import schoolgate.config.GatewayConfig;
import schoolgate.support.CardEvents;
import schoolgate.support.GatewayFixture;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.support.CardEvents.card;
import static schoolgate.support.CardEvents.holder;

/**
 * {@code import FILE}: all or nothing. A bad line or a gap in seq is named by its line, the
 * exit code is non-zero, and the database is left exactly as it was.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ImportIT {

  @TempDir
  Path dir;
  private Path config;
  private JsonObject json;

  /** What one run of the command did. */
  record Run(int exit, String out, String err) {
  }

  @BeforeEach
  void config() throws Exception {
    json = GatewayFixture.config(dir);
    config = dir.resolve("gateway.json");
    Files.writeString(config, json.encode());
  }

  private Run importFile(Path file) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      exit = Main.run(new String[] {"import", file.toString(), "--config", config.toString()});
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    Run run = new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    System.out.println("import " + file.getFileName() + " -> " + run);
    return run;
  }

  private Run importLines(String name, List<String> lines) throws Exception {
    return importFile(CardEvents.write(dir.resolve(name), lines));
  }

  /** The card table as the database has it (the gateway is stopped). */
  private CardTable table() {
    Vertx vertx = Vertx.vertx();
    try {
      Gateway.OpenedDatabase db = GatewayFixture.await(Gateway.openDatabase(vertx, GatewayConfig.from(json.copy())));
      try {
        return GatewayFixture.await(new CardRepository(db.database().pool()).load(new CardTable()));
      } finally {
        db.database().close();
        db.lock().close();
      }
    } finally {
      GatewayFixture.await(vertx.close());
    }
  }

  static List<String> good() {
    return List.of(
        holder(1, "h-1", "Иванова Мария Петровна", "5А", true),
        card(2, "04A1B2C3D4E5F6", "h-1", 1, "permanent", "active"),
        card(3, "04B2C3D4E5F6A7", "h-1", 2, "temporary", "active"),
        holder(4, "h-2", "Петров Иван", "6Б", true),
        card(5, "A1B2C3D4", "h-2", 1, "permanent", "active"));
  }

  private void assertNothingApplied(long seq) {
    CardTable t = table();
    assertEquals(seq, t.appliedSeq(), "applied seq");
    if (seq == 0) {
      assertEquals(0, t.cardCount());
      assertEquals(0, t.holderCount());
    }
  }

  @Test
  void aBadLineIsNamedAndNothingOfTheFileIsApplied() throws Exception {
    String[] bad = {
        "not json at all",
        "{\"seq\": 4, \"type\": \"card\", \"card\": {\"uid\": \"XYZ\", \"holder\": \"h-1\", \"issue\": 3, \"kind\": \"permanent\", \"state\": \"active\"}}",
        "{\"seq\": 4, \"type\": \"card\", \"card\": {\"uid\": \"04C3D4E5F6A7B8\", \"holder\": \"h-1\", \"issue\": \"3\", \"kind\": \"permanent\", \"state\": \"active\"}}",
        "{\"seq\": 4, \"type\": \"card\", \"card\": {\"uid\": \"04C3D4E5F6A7B8\", \"holder\": \"h-1\", \"issue\": 3, \"kind\": \"plastic\", \"state\": \"active\"}}",
        "{\"seq\": 4, \"type\": \"card\", \"card\": {\"uid\": \"04C3D4E5F6A7B8\", \"holder\": \"h-1\", \"issue\": 3, \"kind\": \"permanent\", \"state\": \"lost\"}}",
        "{\"seq\": 4, \"type\": \"holder\", \"holder\": {\"id\": \"h-3\", \"name\": \"X\", \"class\": \"1А\", \"active\": \"yes\"}}",
        "{\"seq\": \"4\", \"type\": \"holder\", \"holder\": {\"id\": \"h-3\", \"name\": \"X\", \"class\": \"1А\", \"active\": true}}",
        "{\"seq\": 4, \"type\": \"student\"}",
        "[4]",
        "{\"seq\": 4, \"type\": \"card\", \"card\": {\"uid\": \"\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\", \"holder\": \"h-1\", \"issue\": 3, \"kind\": \"permanent\", \"state\": \"active\"}}",
    };
    int i = 0;
    for (String line : bad) {
      List<String> lines = new ArrayList<>(good().subList(0, 3));
      lines.add("");                       // blank lines are skipped but still counted
      lines.add(line);                     // line 5
      lines.add(good().get(4));
      Run run = importLines("bad-" + (i++) + ".jsonl", lines);
      assertNotEquals(0, run.exit(), line);
      assertTrue(run.err().contains("line 5"), "names the line: " + run.err());
      assertTrue(run.err().contains("nothing was applied"), run.err());
    }
    assertNothingApplied(0);
  }

  @Test
  void aGapInSeqIsReportedNamingTheLineAfterIt() throws Exception {
    List<String> lines = new ArrayList<>(good());
    lines.remove(2);                       // seq 3 missing; seq 4 is now line 3
    Run run = importLines("gap.jsonl", lines);
    assertNotEquals(0, run.exit());
    assertTrue(run.err().contains("line 3"), run.err());
    assertTrue(run.err().contains("seq 3"), run.err());
    assertNothingApplied(0);
  }

  @Test
  void aFileThatDoesNotContinueTheDatabaseIsRefusedAndOneThatDoesIsApplied() throws Exception {
    assertEquals(0, importLines("first.jsonl", good().subList(0, 2)).exit());
    assertEquals(2, table().appliedSeq());
    Run gap = importLines("later.jsonl", good().subList(3, 5));
    assertNotEquals(0, gap.exit());
    assertTrue(gap.err().contains("line 1") && gap.err().contains("seq 3"), gap.err());
    assertNothingApplied(2);
    // Overlapping the database is fine: what is applied already is skipped.
    Run all = importLines("all.jsonl", good());
    assertEquals(0, all.exit(), all.err());
    assertTrue(all.out().contains("applied 3"), all.out());
    CardTable t = table();
    assertEquals(5, t.appliedSeq());
    assertEquals(Reason.SUPERSEDED, t.decide("04A1B2C3D4E5F6").reason());
    assertEquals(Reason.OK, t.decide("04B2C3D4E5F6A7").reason());
    assertEquals(Reason.OK, t.decide("A1B2C3D4").reason());
    // And again: nothing new, still success.
    Run again = importLines("all.jsonl", good());
    assertEquals(0, again.exit(), again.err());
    assertEquals(5, table().appliedSeq());
  }

  @Test
  void twoDifferentEventsWithOneSeqAreNamed() throws Exception {
    List<String> lines = new ArrayList<>(good());
    lines.add(card(2, "04A1B2C3D4E5F6", "h-1", 1, "permanent", "blocked"));
    Run run = importLines("conflict.jsonl", lines);
    assertNotEquals(0, run.exit());
    assertTrue(run.err().contains("line 6") && run.err().contains("line 2"), run.err());
    assertNothingApplied(0);
  }

  /** Text in UTF-8 (Cyrillic names) goes through; a line in another encoding is named. */
  @Test
  void aLineThatIsNotUtf8IsNamedAndNothingIsApplied() throws Exception {
    Path file = dir.resolve("latin1.jsonl");
    Files.write(file, (good().get(0) + "\n" + "{\"seq\":2,\"x\":\"\u00e9\u00e9\"}\n").getBytes(StandardCharsets.ISO_8859_1));
    Run run = importFile(file);
    assertNotEquals(0, run.exit());
    // Regression: this used to say "line 0".
    assertTrue(run.err().contains("line 2") && run.err().contains("UTF-8"), run.err());
    assertNothingApplied(0);
  }

  @Test
  void importIsRefusedWhileAGatewayRunsOnTheSameDatabase() throws Exception {
    Vertx vertx = Vertx.vertx();
    Gateway gateway = GatewayFixture.start(vertx, json.copy());
    try {
      Run run = importLines("good.jsonl", good());
      assertNotEquals(0, run.exit());
      assertTrue(run.err().contains("in use"), run.err());
      assertEquals(0, gateway.table().appliedSeq());
    } finally {
      GatewayFixture.await(gateway.stop());
      GatewayFixture.await(vertx.close());
    }
    assertNothingApplied(0);
  }

  @Test
  void aMissingFileIsAUsageError() {
    Run run = importFile(dir.resolve("no-such-file.jsonl"));
    assertNotEquals(0, run.exit());
    assertTrue(run.err().contains("no-such-file.jsonl (no such file)"), run.err());
  }
}
