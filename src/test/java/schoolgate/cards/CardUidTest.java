package schoolgate.cards;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Card uids on the wire: 8, 14 or 20 hex digits, either case; nothing else. */
class CardUidTest {

  @Test
  void hexOfTheThreeLengthsInEitherCaseIsUpperCased() {
    assertEquals("A1B2C3D4", CardUid.normalize("a1b2c3d4"));
    assertEquals("04A1B2C3D4E5F6", CardUid.normalize("04a1B2c3D4e5F6"));
    assertEquals("0102030405060708090A", CardUid.normalize("0102030405060708090a"));
  }

  /** Regression: Character.digit took these for hex digits, so they became "cards". */
  @Test
  void nonAsciiDigitsAndLettersAreNotHex() {
    assertNull(CardUid.normalize("\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668")); // Arabic-Indic
    assertNull(CardUid.normalize("\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e")); // Devanagari
    assertNull(CardUid.normalize("\uff21\uff22\uff23\uff24\uff11\uff12\uff13\uff14")); // full-width
    assertNull(CardUid.normalize("A1B2C3D\u0663"));
  }

  @Property(tries = 2000)
  void anythingWithACharacterOutsideAsciiHexIsRefused(@ForAll @StringLength(min = 8, max = 8) String s) {
    boolean ascii = s.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F');
    assertEquals(ascii ? s.toUpperCase() : null, CardUid.normalize(s), s);
  }

  @Property(tries = 500)
  void wrongLengthsAreRefused(@ForAll @CharRange(from = '0', to = '9') @StringLength(min = 0, max = 30) String s) {
    if (s.length() != 8 && s.length() != 14 && s.length() != 20) {
      assertNull(CardUid.normalize(s), s);
    }
  }
}
