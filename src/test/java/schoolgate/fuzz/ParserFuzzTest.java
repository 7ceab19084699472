package schoolgate.fuzz;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import schoolgate.cards.BadInput;
import schoolgate.cards.CardEvent;
import schoolgate.cards.CardUid;
import schoolgate.readers.Tap;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Everything that parses outside input rejects bad input with its own exception (which
 * becomes a bad_request or a logged, named error) and nothing else: no NullPointerException,
 * no ClassCastException, no StackOverflowError. What it accepts satisfies the contract.
 * Long run: {@code mvn verify -Dtest=ParserFuzzTest -Dfuzz.count=1000000}.
 */
class ParserFuzzTest {

  private static final List<String> TAPS = List.of(
      "{\"card\": \"04A1B2C3D4E5F6\", \"seq\": 42, \"ts\": \"2026-11-24T08:00:01.250+03:00\"}",
      "{\"card\": \"04a1b2c3\"}",
      "{\"card\": \"04A1B2C3D4E5F6A7B8C9\", \"seq\": 0}");

  private static final List<String> CARD_EVENTS = List.of(
      "{\"seq\": 17, \"type\": \"holder\", \"holder\": {\"id\": \"h-1001\", \"name\": \"Иванова Мария Петровна\","
          + " \"class\": \"5А\", \"active\": true, \"photo\": \"/9j/4AAQSkZJRg==\"}}",
      "{\"seq\": 18, \"type\": \"card\", \"card\": {\"uid\": \"04A1B2C3D4E5F6\", \"holder\": \"h-1001\","
          + " \"issue\": 2, \"kind\": \"temporary\", \"state\": \"active\"}}",
      "{\"seq\": 19, \"type\": \"card\", \"card\": {\"uid\": \"04a1b2c3\", \"holder\": \"h-7\","
          + " \"issue\": 1, \"kind\": \"permanent\", \"state\": \"blocked\"}}");

  @Test
  void tapParserRejectsEveryBadInputWithBadTapOnly() {
    Mutator mutator = new Mutator(20261124L, TAPS);
    int accepted = 0;
    int n = Mutator.count(200_000);
    for (int i = 0; i < n; i++) {
      byte[] input = mutator.next();
      try {
        Tap tap = Tap.parse(Buffer.buffer(input), 1024);
        accepted++;
        assertEquals(tap.card(), CardUid.normalize(tap.card()), "accepted card is canonical");
        assertTrue(tap.seq() == null || tap.seq() >= 0, "accepted seq is non-negative");
      } catch (Tap.Bad expected) {
        assertNotNull(expected.getMessage());
      } catch (Throwable t) {
        fail("input #" + i + " " + new String(input, StandardCharsets.UTF_8) + " threw " + t, t);
      }
    }
    assertTrue(accepted > 0 && accepted < n, "the generator makes both valid and invalid taps: " + accepted);
  }

  @Test
  void cardEventParserRejectsEveryBadInputWithBadInputOnly() {
    Mutator mutator = new Mutator(17L, CARD_EVENTS);
    int accepted = 0;
    int n = Mutator.count(200_000);
    for (int i = 0; i < n; i++) {
      String input = new String(mutator.next(), StandardCharsets.UTF_8);
      try {
        CardEvent event = CardEvent.parse(input);
        accepted++;
        assertTrue(event.seq() >= 1);
        if (event instanceof CardEvent.CardChange c) {
          assertEquals(c.uid(), CardUid.normalize(c.uid()));
          assertTrue(c.issue() >= 1);
          assertTrue(!c.holderId().isBlank());
        } else if (event instanceof CardEvent.HolderChange h) {
          assertTrue(!h.id().isBlank() && !h.name().isBlank());
        }
      } catch (BadInput expected) {
        assertNotNull(expected.getMessage());
      } catch (Throwable t) {
        fail("input #" + i + " " + input + " threw " + t, t);
      }
    }
    assertTrue(accepted > 0 && accepted < n, "the generator makes both valid and invalid events: " + accepted);
  }
}
