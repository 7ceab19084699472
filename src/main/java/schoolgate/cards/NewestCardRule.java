package schoolgate.cards;

/**
 * The rule the turnstile lives by, pure and in one place: a card opens only if it is known,
 * active, its holder is active, and its issue is the highest its holder has ever had active.
 *
 * <p>Order of the checks when several apply: a card older than the holder's newest is
 * reported {@code superseded} even if it was also blocked, because that is what the guard
 * must act on (keep the card); then {@code blocked}; then {@code holder_inactive}
 * (a holder the gateway has not heard of counts as inactive).
 */
public final class NewestCardRule {

  private NewestCardRule() {
  }

  public static Reason judge(Card card, Holder holder, Mark mark) {
    if (card == null) {
      return Reason.UNKNOWN_CARD;
    }
    return judge(card.issue(), card.active(), holder != null && holder.active(), mark != null,
        mark == null ? 0 : mark.highestIssue());
  }

  /**
   * The same rule for a known card, on the fields alone (the packed table decides without
   * building a {@link Mark}). {@code holderActive} is false for a holder not heard of.
   */
  static Reason judge(int issue, boolean cardActive, boolean holderActive, boolean hasMark, int highestIssue) {
    if (hasMark && issue < highestIssue) {
      return Reason.SUPERSEDED;
    }
    if (!cardActive) {
      return Reason.BLOCKED;
    }
    if (!holderActive) {
      return Reason.HOLDER_INACTIVE;
    }
    if (!hasMark || issue != highestIssue) {
      // An active card always raises its holder's mark, so this is only reachable if the
      // table was built without doing so; refuse rather than admit.
      return Reason.SUPERSEDED;
    }
    return Reason.OK;
  }
}
