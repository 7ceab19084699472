package schoolgate.cards;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The holder removal event, an addition to contract section 3 (docs/decisions.md). */
class HolderRemovedEventTest {

  @Test
  void removedTrueIsARemovalAndNeedsNothingButTheId() {
    CardEvent e = CardEvent.parse("{\"seq\": 7, \"type\": \"holder\", \"holder\": {\"id\": \"h-1\", \"removed\": true}}");
    CardEvent.HolderRemoved r = assertInstanceOf(CardEvent.HolderRemoved.class, e);
    assertEquals(7, r.seq());
    assertEquals("h-1", r.id());
  }

  @Test
  void removedFalseIsAnOrdinaryHolderEvent() {
    CardEvent e = CardEvent.parse("{\"seq\": 8, \"type\": \"holder\", \"holder\": {\"id\": \"h-1\","
        + " \"name\": \"Иванова Мария\", \"class\": \"5А\", \"active\": true, \"removed\": false}}");
    assertInstanceOf(CardEvent.HolderChange.class, e);
  }

  @Test
  void aRemovalWithoutIdOrWithANonBooleanFlagIsBadInput() {
    assertThrows(BadInput.class, () -> CardEvent.parse("{\"seq\": 9, \"type\": \"holder\", \"holder\": {\"removed\": true}}"));
    BadInput bad = assertThrows(BadInput.class,
        () -> CardEvent.parse("{\"seq\": 9, \"type\": \"holder\", \"holder\": {\"id\": \"h-1\", \"removed\": \"yes\"}}"));
    assertEquals("holder.removed must be true or false", bad.getMessage());
  }

  @Test
  void theTableForgetsTheHolderAndItsCardsButKeepsTheMark() {
    CardTable table = new CardTable();
    java.time.Instant now = java.time.Instant.now();
    table.apply(CardEvent.parse("{\"seq\":1,\"type\":\"holder\",\"holder\":{\"id\":\"h-1\",\"name\":\"А Б\",\"class\":\"1А\",\"active\":true}}"), now);
    table.apply(CardEvent.parse("{\"seq\":2,\"type\":\"card\",\"card\":{\"uid\":\"AABBCCDD\",\"holder\":\"h-1\",\"issue\":3,\"kind\":\"permanent\",\"state\":\"active\"}}"), now);
    table.apply(CardEvent.parse("{\"seq\":3,\"type\":\"holder\",\"holder\":{\"id\":\"h-1\",\"removed\":true}}"), now);
    assertEquals(Reason.UNKNOWN_CARD, table.decide("AABBCCDD").reason());
    assertEquals(0, table.holderCount());
    assertEquals(0, table.cardCount());
    // An old card of the holder re-sent later still cannot open: the mark (3) stayed.
    table.apply(CardEvent.parse("{\"seq\":4,\"type\":\"holder\",\"holder\":{\"id\":\"h-1\",\"name\":\"А Б\",\"class\":\"1А\",\"active\":true}}"), now);
    table.apply(CardEvent.parse("{\"seq\":5,\"type\":\"card\",\"card\":{\"uid\":\"11223344\",\"holder\":\"h-1\",\"issue\":2,\"kind\":\"temporary\",\"state\":\"active\"}}"), now);
    assertEquals(Reason.SUPERSEDED, table.decide("11223344").reason());
  }
}
