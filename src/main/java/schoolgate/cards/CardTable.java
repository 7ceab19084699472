package schoolgate.cards;

import java.time.Instant;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.locks.StampedLock;
import java.util.function.Consumer;

/**
 * The in-memory replica of the card table that every decision is made against: no disk on
 * the decision path. Written by {@link CardEventApplier} after each commit (and at start-up
 * from PostgreSQL); read concurrently by the reader listeners and the monitor.
 *
 * <p>Packed, so that a school's two million cards fit in little heap: cards in
 * {@link CardSlots} (uid as a primitive key, fields in one {@code long}), holders in
 * {@link HolderColumns} (parallel arrays, names as UTF-8 bytes). {@code Card}, {@code Holder}
 * and {@code Mark} records are built on the way out.
 *
 * <p>Threads. Writers ({@link #apply}, the {@code load} methods) are serialised on a monitor
 * (in practice there is one: the applier's chain) and change the arrays only while holding
 * the {@link StampedLock}'s write lock, one event at a time, so an event becomes visible
 * whole: a reader never sees a card without its holder's raised mark, nor a removed holder's
 * card. Readers take no lock on the hot path: {@link #decide} reads under an optimistic stamp
 * and validates it, falling back to the read lock if a write intervened (or for a uid kept in
 * the fallback map); {@link #holder} and {@link #holders} use the read lock. The unlock of a
 * write happens-before every read that validates after it, so, as with the
 * {@code ConcurrentHashMap}s this replaces, a decision that starts after {@code apply}
 * returned sees the event. Counts, {@link #appliedSeq} and {@link #lastEventAt} are volatile.
 */
public final class CardTable {

  private final StampedLock lock = new StampedLock();
  private final Object writer = new Object();
  private final CardSlots cards = new CardSlots();
  private final HolderColumns holders = new HolderColumns();
  private volatile int cardCount;
  private volatile int holderCount;
  private volatile long appliedSeq;
  private volatile Instant lastEventAt;

  public Verdict decide(String uid) {
    long key = CardSlots.key(uid);
    long value;
    String holderId = null;
    Object name = null;
    String className = null;
    int flags = 0;
    int highest = 0;
    long markSeconds = 0;
    int markNanos = 0;
    long stamp = key != 0 ? lock.tryOptimisticRead() : 0L;
    boolean locked = false;
    try {
      while (true) {
        if (stamp == 0L) {
          stamp = lock.readLock();
          locked = true;
        }
        value = locked ? cards.get(uid) : cards.getPacked(key);
        boolean torn = false;
        if (value != CardSlots.ABSENT) {
          int h = CardSlots.holder(value);
          HolderColumns c = holders;
          String[] ids = c.ids;
          Object[] names = c.names;
          int[] classes = c.classes;
          byte[] flagArray = c.flags;
          int[] marks = c.markIssue;
          long[] seconds = c.markSeconds;
          int[] nanos = c.markNanos;
          String[] classNames = c.classNames;
          if (h < ids.length && h < names.length && h < classes.length && h < flagArray.length
              && h < marks.length && h < seconds.length && h < nanos.length) {
            holderId = ids[h];
            name = names[h];
            flags = flagArray[h];
            highest = marks[h];
            markSeconds = seconds[h];
            markNanos = nanos[h];
            int cls = classes[h];
            className = cls < classNames.length ? classNames[cls] : null;
            torn = holderId == null;
          } else {
            torn = true;
          }
        }
        if (locked) {
          if (torn) {
            throw new IllegalStateException("card table inconsistent under the read lock");
          }
          break;
        }
        if (!torn && lock.validate(stamp)) {
          break;
        }
        stamp = 0L;
      }
    } finally {
      if (locked) {
        lock.unlockRead(stamp);
      }
    }
    if (value == CardSlots.ABSENT) {
      return new Verdict(uid, Reason.UNKNOWN_CARD, null, null, null);
    }
    boolean present = (flags & HolderColumns.PRESENT) != 0;
    boolean holderActive = present && (flags & HolderColumns.ACTIVE) != 0;
    boolean hasMark = (flags & HolderColumns.MARK) != 0;
    int issue = CardSlots.issue(value);
    boolean active = CardSlots.active(value);
    Reason reason = NewestCardRule.judge(issue, active, holderActive, hasMark, highest);
    Card card = new Card(uid, holderId, issue, CardSlots.kind(value), active);
    Holder holder = present ? new Holder(holderId, HolderColumns.decode(name), className, holderActive,
        (flags & HolderColumns.PHOTO) != 0) : null;
    return new Verdict(uid, reason, card, holder,
        reason == Reason.SUPERSEDED && hasMark ? Instant.ofEpochSecond(markSeconds, markNanos) : null);
  }

  /** Applies one committed event. The mark is raised in the same step as the card is stored. */
  public void apply(CardEvent event, Instant now) {
    synchronized (writer) {
      if (event instanceof CardEvent.HolderChange h) {
        long stamp = lock.writeLock();
        try {
          int index = holders.intern(h.id());
          boolean hasPhoto = switch (h.photoChange()) {
            case KEEP -> holders.isPresent(index) && holders.hasPhoto(index);
            case REMOVE -> false;
            case REPLACE -> true;
          };
          holders.set(index, h.name(), h.className(), h.active(), hasPhoto);
        } finally {
          lock.unlockWrite(stamp);
        }
      } else if (event instanceof CardEvent.HolderRemoved r) {
        // The holder's cards go in the same step as the holder: a tap racing with this sees
        // the card with its holder, or unknown_card. The mark stays, as in PostgreSQL.
        int index = holders.find(r.id());
        if (index >= 0) {
          CardSlots.Bound bound = cards.boundTo(index); // the scan needs no lock: we are the writer
          long stamp = lock.writeLock();
          try {
            cards.removeAll(bound);
            holders.clear(index);
          } finally {
            lock.unlockWrite(stamp);
          }
        }
      } else if (event instanceof CardEvent.CardChange c) {
        long stamp = lock.writeLock();
        try {
          int index = holders.intern(c.holderId());
          if (c.active()) {
            holders.raiseMark(index, c.issue(), now);
          }
          cards.put(c.uid(), CardSlots.pack(index, c.issue(), c.kind(), c.active()));
        } finally {
          lock.unlockWrite(stamp);
        }
      }
      counted();
      appliedSeq = Math.max(appliedSeq, event.seq());
      lastEventAt = now;
    }
  }

  private void counted() {
    cardCount = cards.size();
    holderCount = holders.present;
  }

  /** Loading from PostgreSQL at start. */
  void load(Card card) {
    loadPage(l -> l.card(card.uid(), card.holderId(), card.issue(), card.kind(), card.active()));
  }

  void load(Holder holder) {
    loadPage(l -> l.holder(holder.id(), holder.name(), holder.className(), holder.active(), holder.hasPhoto()));
  }

  void load(String holderId, Mark mark) {
    loadPage(l -> l.mark(holderId, mark.highestIssue(), mark.raisedAt()));
  }

  /**
   * Loads a page of rows (from PostgreSQL at start, or at a reload) in one step: one write
   * lock for the page rather than one per row. The {@link Loader} is valid only inside.
   */
  void loadPage(Consumer<Loader> page) {
    synchronized (writer) {
      long stamp = lock.writeLock();
      try {
        page.accept(loader);
      } finally {
        loader.lastHolderId = null;
        lock.unlockWrite(stamp);
        counted();
      }
    }
  }

  /** Writes rows as PostgreSQL has them: no event semantics (a mark is set as stored, not raised). */
  final class Loader {
    private String lastHolderId;
    private int lastHolder;

    void card(String uid, String holderId, int issue, Card.Kind kind, boolean active) {
      // A holder's cards tend to be stored next to each other (issued together, imported
      // together): the previous row's holder saves a lookup in the big id table.
      if (!holderId.equals(lastHolderId)) {
        lastHolder = holders.intern(holderId);
        lastHolderId = holderId;
      }
      cards.put(uid, CardSlots.pack(lastHolder, issue, kind, active));
    }

    void holder(String id, String name, String className, boolean active, boolean hasPhoto) {
      holders.set(holders.intern(id), name, className, active, hasPhoto);
    }

    void mark(String holderId, int highestIssue, Instant raisedAt) {
      holders.setMark(holders.intern(holderId), highestIssue, raisedAt);
    }
  }

  private final Loader loader = new Loader();

  void loaded(long seq, Instant at) {
    appliedSeq = seq;
    lastEventAt = at;
  }

  public Holder holder(String id) {
    long stamp = lock.readLock();
    try {
      int h = holders.find(id);
      return h < 0 ? null : holders.holder(h);
    } finally {
      lock.unlockRead(stamp);
    }
  }

  /** The holders present, as they are when the iteration reaches each (like a concurrent map's view). */
  public Iterable<Holder> holders() {
    return () -> new Iterator<>() {
      private int next;
      private Holder ahead;

      @Override
      public boolean hasNext() {
        if (ahead != null) {
          return true;
        }
        long stamp = lock.readLock();
        try {
          while (ahead == null && next < holders.size) {
            ahead = holders.holder(next++);
          }
        } finally {
          lock.unlockRead(stamp);
        }
        return ahead != null;
      }

      @Override
      public Holder next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Holder h = ahead;
        ahead = null;
        return h;
      }
    };
  }

  public long appliedSeq() {
    return appliedSeq;
  }

  /** When the last card event was applied (null if none ever was). */
  public Instant lastEventAt() {
    return lastEventAt;
  }

  public int cardCount() {
    return cardCount;
  }

  public int holderCount() {
    return holderCount;
  }

  /** Slots of the primitive card table and cards in the fallback map (for tests). */
  int cardCapacity() {
    return cards.capacity();
  }

  int fallbackCards() {
    return cards.otherSize();
  }
}
