package schoolgate.cards;

/** Why a tap opened or did not open the turnstile; {@link #wire()} is the contract's word. */
public enum Reason {
  OK("ok"),
  UNKNOWN_CARD("unknown_card"),
  SUPERSEDED("superseded"),
  BLOCKED("blocked"),
  HOLDER_INACTIVE("holder_inactive"),
  BAD_REQUEST("bad_request");

  private final String wire;

  Reason(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  public static Reason ofWire(String wire) {
    for (Reason r : values()) {
      if (r.wire.equals(wire)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown reason " + wire);
  }
}
