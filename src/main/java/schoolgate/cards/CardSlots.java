package schoolgate.cards;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Card uid -> the card's fields packed in one {@code long}: an open-addressing table (linear
 * probing, backward-shift removal, no tombstones) of primitive keys and values, and a small
 * map for uids that do not fit a key.
 *
 * <p>Keys: a uid of 1 to 15 upper-case hex digits (the contract's 8 and 14) is its value in
 * the low 60 bits and its length in the top 4, so "0000000A" and "0000000000000A" differ and
 * no key is 0 (0 marks a free slot). Anything else (20 digits, lower case, which
 * {@link CardUid#normalize} never produces) goes to {@link #other}, keyed by the string.
 *
 * <p>Values: issue in the high 32 bits, holder index (below 2^30) shifted left by 2, kind
 * and active in the low 2 bits. A value is never {@link #ABSENT}.
 *
 * <p>Not thread-safe: {@link CardTable} guards it. {@link #getPacked} may be called without
 * the lock (an optimistic read): it never throws and always ends, whatever it races with;
 * the caller validates the result.
 */
final class CardSlots {

  static final long ABSENT = -1L;
  static final int MAX_HOLDERS = (1 << 30) - 1;
  private static final int MIN_CAPACITY = 16;

  /** Key at {@code 2 * i}, value at {@code 2 * i + 1}; key 0 = free. One cache line per probe. */
  long[] table = new long[2 * MIN_CAPACITY];
  private int packedSize;
  private final Map<String, Long> other = new HashMap<>();

  /** The primitive key of {@code uid}, or 0 if it does not have one. */
  static long key(String uid) {
    int len = uid.length();
    if (len == 0 || len > 15) {
      return 0;
    }
    long v = 0;
    for (int i = 0; i < len; i++) {
      char c = uid.charAt(i);
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return 0;
      }
      v = v << 4 | d;
    }
    return (long) len << 60 | v;
  }

  static long pack(int holder, int issue, Card.Kind kind, boolean active) {
    if (holder < 0 || holder >= MAX_HOLDERS) {
      throw new IllegalStateException("holder index out of range: " + holder);
    }
    int low = holder << 2 | (kind == Card.Kind.TEMPORARY ? 2 : 0) | (active ? 1 : 0);
    return (long) issue << 32 | (low & 0xFFFFFFFFL);
  }

  static int holder(long value) {
    return (int) value >>> 2;
  }

  static int issue(long value) {
    return (int) (value >>> 32);
  }

  static Card.Kind kind(long value) {
    return (value & 2) != 0 ? Card.Kind.TEMPORARY : Card.Kind.PERMANENT;
  }

  static boolean active(long value) {
    return (value & 1) != 0;
  }

  private static int home(long key, int mask) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ h >>> 32) & mask;
  }

  /** The value stored under primitive {@code key} (not 0), or {@link #ABSENT}. Safe to race. */
  long getPacked(long key) {
    long[] t = table;
    int cap = t.length >>> 1;
    int mask = cap - 1;
    int i = home(key, mask);
    for (int n = 0; n < cap; n++) {
      long k = t[2 * i];
      if (k == key) {
        return t[2 * i + 1];
      }
      if (k == 0) {
        return ABSENT;
      }
      i = (i + 1) & mask;
    }
    return ABSENT;
  }

  /** The value of {@code uid}, or {@link #ABSENT}. Under the lock only (the map is not safe to race). */
  long get(String uid) {
    long key = key(uid);
    if (key != 0) {
      return getPacked(key);
    }
    Long v = other.get(uid);
    return v == null ? ABSENT : v;
  }

  void put(String uid, long value) {
    long key = key(uid);
    if (key == 0) {
      other.put(uid, value);
      return;
    }
    if ((packedSize + 1) * 4L > (table.length >>> 1) * 3L) {
      grow();
    }
    long[] t = table;
    int mask = (t.length >>> 1) - 1;
    int i = home(key, mask);
    while (true) {
      long k = t[2 * i];
      if (k == key) {
        t[2 * i + 1] = value;
        return;
      }
      if (k == 0) {
        t[2 * i + 1] = value;
        t[2 * i] = key;
        packedSize++;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  private void grow() {
    rehash(table.length); // twice the slots: table.length is 2 * capacity
  }

  private void rehash(int capacity) {
    if (capacity > (1 << 29)) {
      throw new IllegalStateException("card table full");
    }
    long[] old = table;
    long[] t = new long[2 * capacity];
    int mask = capacity - 1;
    for (int j = 0; j < old.length; j += 2) {
      long k = old[j];
      if (k != 0) {
        int i = home(k, mask);
        while (t[2 * i] != 0) {
          i = (i + 1) & mask;
        }
        t[2 * i] = k;
        t[2 * i + 1] = old[j + 1];
      }
    }
    table = t;
  }

  boolean remove(String uid) {
    long key = key(uid);
    if (key == 0) {
      return other.remove(uid) != null;
    }
    return removePacked(key);
  }

  private boolean removePacked(long key) {
    long[] t = table;
    int mask = (t.length >>> 1) - 1;
    int i = home(key, mask);
    while (true) {
      long k = t[2 * i];
      if (k == 0) {
        return false;
      }
      if (k == key) {
        break;
      }
      i = (i + 1) & mask;
    }
    // Backward shift: pull later entries of the probe run into the hole, so that every key
    // stays reachable from its home slot without tombstones.
    int hole = i;
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      long k = t[2 * j];
      if (k == 0) {
        break;
      }
      int h = home(k, mask);
      boolean movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
      if (movable) {
        t[2 * hole] = k;
        t[2 * hole + 1] = t[2 * j + 1];
        hole = j;
      }
    }
    t[2 * hole] = 0;
    t[2 * hole + 1] = 0;
    packedSize--;
    return true;
  }

  /** Primitive keys and fallback uids of the cards bound to holder {@code h}. */
  Bound boundTo(int h) {
    long[] keys = new long[4];
    int n = 0;
    long[] t = table;
    for (int j = 0; j < t.length; j += 2) {
      if (t[j] != 0 && holder(t[j + 1]) == h) {
        if (n == keys.length) {
          keys = Arrays.copyOf(keys, n * 2);
        }
        keys[n++] = t[j];
      }
    }
    String[] others = other.entrySet().stream().filter(e -> holder(e.getValue()) == h)
        .map(Map.Entry::getKey).toArray(String[]::new);
    return new Bound(Arrays.copyOf(keys, n), others);
  }

  record Bound(long[] keys, String[] others) {
    int size() {
      return keys.length + others.length;
    }
  }

  /** Removes what {@link #boundTo} found; returns how many were removed. */
  int removeAll(Bound bound) {
    int removed = 0;
    for (long k : bound.keys()) {
      removed += removePacked(k) ? 1 : 0;
    }
    for (String uid : bound.others()) {
      removed += other.remove(uid) != null ? 1 : 0;
    }
    return removed;
  }

  int size() {
    return packedSize + other.size();
  }

  /** Slots in the primitive table (for tests). */
  int capacity() {
    return table.length >>> 1;
  }

  /** Cards kept in the fallback map (for tests). */
  int otherSize() {
    return other.size();
  }
}
