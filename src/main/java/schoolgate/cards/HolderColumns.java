package schoolgate.cards;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Every holder id the table has heard of (from a holder event, a card or a mark), each at a
 * fixed index, with the holder's fields in parallel arrays. An index is never reused: a
 * removed holder keeps its id and its mark (the mark must never go down) and loses the rest.
 *
 * <p>Names are UTF-8 bytes (no {@code String} object per holder), or the {@code String}
 * itself in the rare case where UTF-8 would not give it back exactly (lone surrogates). Class
 * names are few and shared: an index into {@link #classNames}. A published name array is
 * never written again, so a reader that saw it under a validated stamp may decode it later.
 *
 * <p>Not thread-safe: {@link CardTable} guards it. {@link #find} may be called without the
 * lock (an optimistic read): it never throws and always ends; the caller validates.
 */
final class HolderColumns {

  static final int PRESENT = 1;
  static final int ACTIVE = 2;
  static final int PHOTO = 4;
  static final int MARK = 8;

  private static final int MIN_CAPACITY = 16;

  String[] ids = new String[MIN_CAPACITY];
  /** byte[] (UTF-8) or String; null when the holder is not present. */
  Object[] names = new Object[MIN_CAPACITY];
  int[] classes = new int[MIN_CAPACITY];
  byte[] flags = new byte[MIN_CAPACITY];
  int[] markIssue = new int[MIN_CAPACITY];
  long[] markSeconds = new long[MIN_CAPACITY];
  int[] markNanos = new int[MIN_CAPACITY];
  String[] classNames = new String[8];
  private final Map<String, Integer> classIndex = new HashMap<>();
  /**
   * Open addressing: the id's hash in the high 32 bits, index + 1 in the low 32, 0 = free;
   * the hash is compared before the id is touched. Entries are never removed.
   */
  long[] slots = new long[2 * MIN_CAPACITY];
  int size;
  int present;

  private static int home(int hash, int mask) {
    int h = hash * 0x9E3779B9;
    return (h ^ h >>> 16) & mask;
  }

  /** The index of {@code id}, or -1. Safe to race. */
  int find(String id) {
    long[] s = slots;
    String[] known = ids;
    int mask = s.length - 1;
    int hash = id.hashCode();
    int i = home(hash, mask);
    for (int n = 0; n < s.length; n++) {
      long e = s[i];
      if (e == 0) {
        return -1;
      }
      int index = (int) e - 1;
      if ((int) (e >>> 32) == hash && index >= 0 && index < known.length) {
        String k = known[index];
        if (k != null && k.equals(id)) {
          return index;
        }
      }
      i = (i + 1) & mask;
    }
    return -1;
  }

  /** The index of {@code id}, added (not present, no mark) if it is new. */
  int intern(String id) {
    int found = find(id);
    if (found >= 0) {
      return found;
    }
    if (size == CardSlots.MAX_HOLDERS) {
      throw new IllegalStateException("too many holders");
    }
    if (size == ids.length) {
      int n = (int) Math.min(CardSlots.MAX_HOLDERS, size + (size >> 1));
      ids = Arrays.copyOf(ids, n);
      names = Arrays.copyOf(names, n);
      classes = Arrays.copyOf(classes, n);
      flags = Arrays.copyOf(flags, n);
      markIssue = Arrays.copyOf(markIssue, n);
      markSeconds = Arrays.copyOf(markSeconds, n);
      markNanos = Arrays.copyOf(markNanos, n);
    }
    if ((size + 1) * 4L > slots.length * 3L) {
      rehash(slots.length * 2);
    }
    int index = size++;
    ids[index] = id;
    insert(slots, id, index);
    return index;
  }

  private static void insert(long[] s, String id, int index) {
    int mask = s.length - 1;
    int hash = id.hashCode();
    int i = home(hash, mask);
    while (s[i] != 0) {
      i = (i + 1) & mask;
    }
    s[i] = (long) hash << 32 | (index + 1);
  }

  private void rehash(int capacity) {
    long[] s = new long[capacity];
    for (int k = 0; k < size; k++) {
      insert(s, ids[k], k);
    }
    slots = s;
  }

  /** Sets the holder's own fields and makes it present; the mark is left alone. */
  void set(int h, String name, String className, boolean active, boolean hasPhoto) {
    if ((flags[h] & PRESENT) == 0) {
      present++;
    }
    names[h] = encode(name);
    classes[h] = classOf(className);
    flags[h] = (byte) (flags[h] & MARK | PRESENT | (active ? ACTIVE : 0) | (hasPhoto ? PHOTO : 0));
  }

  /** Forgets the holder's own fields (not the id, not the mark). */
  void clear(int h) {
    if ((flags[h] & PRESENT) != 0) {
      present--;
    }
    names[h] = null;
    classes[h] = 0;
    flags[h] = (byte) (flags[h] & MARK);
  }

  boolean isPresent(int h) {
    return (flags[h] & PRESENT) != 0;
  }

  boolean hasPhoto(int h) {
    return (flags[h] & PHOTO) != 0;
  }

  /** Sets the mark as given (loading), whatever it was. */
  void setMark(int h, int issue, Instant at) {
    markIssue[h] = issue;
    markSeconds[h] = at.getEpochSecond();
    markNanos[h] = at.getNano();
    flags[h] = (byte) (flags[h] | MARK);
  }

  /** {@link Mark#raise}: the mark becomes ({@code issue}, {@code now}) only if that is higher. */
  void raiseMark(int h, int issue, Instant now) {
    if ((flags[h] & MARK) == 0 || markIssue[h] < issue) {
      setMark(h, issue, now);
    }
  }

  private int classOf(String className) {
    Integer known = classIndex.get(className);
    if (known != null) {
      return known;
    }
    int index = classIndex.size();
    if (index == classNames.length) {
      classNames = Arrays.copyOf(classNames, index * 2);
    }
    classNames[index] = className;
    classIndex.put(className, index);
    return index;
  }

  static Object encode(String name) {
    if (name == null) {
      return null;
    }
    for (int i = 0; i < name.length(); i++) {
      if (Character.isSurrogate(name.charAt(i))) {
        return name; // UTF-8 would not give a lone surrogate back; pairs are rare enough
      }
    }
    return name.getBytes(StandardCharsets.UTF_8);
  }

  static String decode(Object name) {
    return name instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : (String) name; // String or null
  }

  /** The holder at {@code h}, or null if not present. Under the lock. */
  Holder holder(int h) {
    byte f = flags[h];
    if ((f & PRESENT) == 0) {
      return null;
    }
    return new Holder(ids[h], decode(names[h]), classNames[classes[h]], (f & ACTIVE) != 0, (f & PHOTO) != 0);
  }
}
