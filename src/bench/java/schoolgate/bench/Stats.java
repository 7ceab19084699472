package schoolgate.bench;

import java.util.Arrays;

/** Latency samples in nanoseconds and their percentiles. */
final class Stats {

  private long[] samples;
  private int size;

  Stats(int capacity) {
    samples = new long[Math.max(16, capacity)];
  }

  synchronized void add(long nanos) {
    if (size == samples.length) {
      samples = Arrays.copyOf(samples, size * 2);
    }
    samples[size++] = nanos;
  }

  synchronized int count() {
    return size;
  }

  /** All samples in nanoseconds, ascending (for a CDF). */
  synchronized long[] sorted() {
    long[] sorted = Arrays.copyOf(samples, size);
    Arrays.sort(sorted);
    return sorted;
  }

  /** The q-quantile (0..1) in microseconds. */
  synchronized double micros(double q) {
    if (size == 0) {
      return Double.NaN;
    }
    long[] sorted = Arrays.copyOf(samples, size);
    Arrays.sort(sorted);
    int i = (int) Math.min(size - 1, Math.max(0, Math.ceil(q * size) - 1));
    return sorted[i] / 1000.0;
  }

  static String fmt(double micros) {
    if (Double.isNaN(micros)) {
      return "-";
    }
    return micros >= 1000 ? String.format("%.2f ms", micros / 1000) : String.format("%.1f µs", micros);
  }
}
