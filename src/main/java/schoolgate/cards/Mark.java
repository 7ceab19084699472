package schoolgate.cards;

import java.time.Instant;

/**
 * The newest-card mark of one holder: the highest {@code issue} ever seen active, and when
 * this gateway learnt of it. It only ever rises.
 */
public record Mark(int highestIssue, Instant raisedAt) {

  /** The mark after seeing card {@code issue} active at {@code now}: the higher of the two. */
  public static Mark raise(Mark current, int issue, Instant now) {
    if (current != null && current.highestIssue >= issue) {
      return current;
    }
    return new Mark(issue, now);
  }
}
