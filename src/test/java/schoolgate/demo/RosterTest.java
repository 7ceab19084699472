package schoolgate.demo;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import schoolgate.cards.CardEvent;
import schoolgate.cards.CardTable;
import schoolgate.cards.Reason;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo school: valid card events that make the newest-card rule visible. */
class RosterTest {

  static Roster roster;

  @BeforeAll
  static void generate() {
    roster = Roster.generate(20261124L, 300, true);
  }

  @Test
  void everyEventParsesAndSeqRisesByOneFromOne() {
    List<String> events = roster.events();
    for (int i = 0; i < events.size(); i++) {
      CardEvent e = CardEvent.parse(events.get(i));
      assertEquals(i + 1, e.seq(), events.get(i));
    }
    assertEquals(300, events.stream().map(CardEvent::parse).filter(e -> e instanceof CardEvent.HolderChange).count());
  }

  @Test
  void issuesRisePerHolderAndUidsAreUnique() {
    Map<String, Integer> lastIssue = new HashMap<>();
    Set<String> uids = new HashSet<>();
    for (String line : roster.events()) {
      if (CardEvent.parse(line) instanceof CardEvent.CardChange c) {
        int previous = lastIssue.getOrDefault(c.holderId(), 0);
        assertEquals(previous + 1, c.issue(), "issue of " + c.uid());
        lastIssue.put(c.holderId(), c.issue());
        assertTrue(uids.add(c.uid()), "uid used twice: " + c.uid());
        assertTrue(c.uid().matches("04[0-9A-F]{12}"), c.uid());
      }
    }
  }

  @Test
  void historiesHaveTemporaryPermanentSupersededAndBlockedCardsAndTheTableAgrees() {
    CardTable table = new CardTable();
    Instant now = Instant.now();
    roster.events().forEach(line -> table.apply(CardEvent.parse(line), now));

    assertTrue(roster.supersededCards().size() >= 20, "superseded: " + roster.supersededCards().size());
    assertTrue(roster.workingCards().size() >= 250, "working: " + roster.workingCards().size());
    roster.workingCards().forEach(uid -> assertEquals(Reason.OK, table.decide(uid).reason(), uid));
    roster.supersededCards().forEach(uid -> assertEquals(Reason.SUPERSEDED, table.decide(uid).reason(), uid));

    long temporaryWorking = roster.students().stream().map(Roster.Student::workingCard)
        .filter(c -> c != null && c.kind().equals("temporary")).count();
    long blocked = roster.students().stream().filter(s -> s.cards().stream().anyMatch(c -> !c.active())).count();
    long replacedPermanent = roster.students().stream().filter(s -> s.cards().size() == 3).count();
    assertTrue(temporaryWorking > 0 && blocked > 0 && replacedPermanent > 0,
        temporaryWorking + " temporary, " + blocked + " blocked, " + replacedPermanent + " replaced");
    roster.students().stream().filter(s -> s.cards().stream().anyMatch(c -> !c.active()))
        .forEach(s -> assertNotEquals(Reason.OK, table.decide(s.cards().get(0).uid()).reason()));
  }

  @Test
  void studentsHaveRussianFullNamesClassesAndJpegPhotos() throws IOException {
    Set<String> classes = new HashSet<>();
    for (Roster.Student s : roster.students()) {
      assertTrue(s.name().matches("[А-ЯЁ][а-яё]+ [А-ЯЁ][а-яё]+ [А-ЯЁ][а-яё]+(вич|вна|ич|на)"), s.name());
      assertTrue(s.className().matches("([1-9]|1[01])[АБВ]"), s.className());
      classes.add(s.className().replaceAll("[АБВ]", ""));
      BufferedImage photo = ImageIO.read(new ByteArrayInputStream(s.photo()));
      assertNotNull(photo, "not a JPEG: " + s.id());
      assertEquals(150, photo.getWidth());
    }
    assertEquals(11, classes.size(), "every grade 1..11 has students");
    CardEvent first = CardEvent.parse(roster.events().get(0));
    assertEquals(CardEvent.PhotoChange.REPLACE, assertInstanceOf(CardEvent.HolderChange.class, first).photoChange());
  }

  @Test
  void theWrittenFileIsWhatImportReads(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws IOException {
    java.nio.file.Path file = dir.resolve("roster.jsonl");
    roster.write(file);
    assertEquals(roster.events().size(), schoolgate.cards.CardImport.read(file).size());
  }

  @Test
  void theSameSeedGivesTheSameSchoolAndAnotherSeedAnother() {
    assertEquals(roster.events(), Roster.generate(20261124L, 300, true).events());
    assertNotEquals(roster.events(), Roster.generate(7L, 300, true).events());
  }
}
