package schoolgate.cards;

/** One card as the centre last described it. */
public record Card(String uid, String holderId, int issue, Kind kind, boolean active) {

  public enum Kind {
    PERMANENT, TEMPORARY;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
