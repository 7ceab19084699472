package schoolgate.cards;

import java.util.Locale;

/** Card UIDs: 8, 14 or 20 hex digits, either case on the wire, upper case inside. */
public final class CardUid {

  private CardUid() {
  }

  /** The canonical (upper-case) UID, or null if {@code raw} is not a valid UID. */
  public static String normalize(String raw) {
    if (raw == null) {
      return null;
    }
    int len = raw.length();
    if (len != 8 && len != 14 && len != 20) {
      return null;
    }
    for (int i = 0; i < len; i++) {
      // ASCII only: Character.digit also takes Arabic-Indic, Devanagari and full-width digits
      // and full-width letters, which are not hex on the wire.
      char c = raw.charAt(i);
      boolean hex = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
      if (!hex) {
        return null;
      }
    }
    return raw.toUpperCase(Locale.ROOT);
  }
}
