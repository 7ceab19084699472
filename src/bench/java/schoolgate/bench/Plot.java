package schoolgate.bench;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Line charts as PNG with plain java.awt in headless mode (no chart library): one chart,
 * several series, linear or logarithmic axes. Baselines are drawn dashed.
 */
final class Plot {

  static {
    System.setProperty("java.awt.headless", "true");
  }

  /** {@code color}: an index into the palette, or -1 for the series' position. */
  record Series(String name, double[] x, double[] y, boolean dashed, boolean markers, int color) {
    Series(String name, double[] x, double[] y, boolean dashed, boolean markers) {
      this(name, x, y, dashed, markers, -1);
    }

    Series colored(int index) {
      return new Series(name, x, y, dashed, markers, index);
    }

    Color paint(int position) {
      return COLORS[(color >= 0 ? color : position) % COLORS.length];
    }
  }

  private static final Color[] COLORS = {
      new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
      new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};
  private static final int W = 1000;
  private static final int H = 640;
  private static final int LEFT = 90;
  private static final int RIGHT = 30;
  private static final int TOP = 50;
  private static final int BOTTOM = 70;

  private Plot() {
  }

  /** The empirical CDF of {@code stats} in milliseconds (at most 2,000 steps drawn). */
  static Series cdf(String name, Stats stats, boolean dashed) {
    long[] s = stats.sorted();
    int n = s.length;
    int points = Math.min(n, 2000);
    double[] x = new double[points + 1];
    double[] y = new double[points + 1];
    x[0] = n == 0 ? 0 : s[0] / 1e6;
    y[0] = 0;
    for (int i = 1; i <= points; i++) {
      int idx = (int) Math.ceil((double) i * n / points) - 1;
      x[i] = s[idx] / 1e6;
      y[i] = (idx + 1.0) / n;
    }
    return new Series(name, x, y, dashed, false);
  }

  static void write(Path file, String title, String xLabel, String yLabel, boolean logX, List<Series> series)
      throws IOException {
    write(file, title, xLabel, yLabel, logX, false, series);
  }

  static void write(Path file, String title, String xLabel, String yLabel, boolean logX, boolean logY,
                    List<Series> series) throws IOException {
    double minX = Double.POSITIVE_INFINITY;
    double maxX = Double.NEGATIVE_INFINITY;
    double minY = Double.POSITIVE_INFINITY;
    double maxY = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (ok(s.x()[i], logX) && ok(s.y()[i], logY)) {
          minX = Math.min(minX, s.x()[i]);
          maxX = Math.max(maxX, s.x()[i]);
          minY = Math.min(minY, s.y()[i]);
          maxY = Math.max(maxY, s.y()[i]);
        }
      }
    }
    if (minX > maxX) {
      minX = logX ? 1 : 0;
      maxX = minX + 1;
      minY = logY ? 1 : 0;
      maxY = minY + 1;
    }
    Axis ax = logX ? Axis.log(minX, maxX) : Axis.linear(Math.min(0, minX), maxX);
    Axis ay = logY ? Axis.log(minY, maxY) : Axis.linear(Math.min(0, minY), maxY);

    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    int pw = W - LEFT - RIGHT;
    int ph = H - TOP - BOTTOM;

    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    FontMetrics fm = g.getFontMetrics();
    for (double t : ax.ticks) {
      int px = LEFT + (int) Math.round(ax.frac(t) * pw);
      g.setColor(new Color(0xe6e6e6));
      g.drawLine(px, TOP, px, TOP + ph);
      g.setColor(Color.DARK_GRAY);
      String label = label(t);
      g.drawString(label, px - fm.stringWidth(label) / 2, TOP + ph + 18);
    }
    for (double t : ay.ticks) {
      int py = TOP + ph - (int) Math.round(ay.frac(t) * ph);
      g.setColor(new Color(0xe6e6e6));
      g.drawLine(LEFT, py, LEFT + pw, py);
      g.setColor(Color.DARK_GRAY);
      String label = label(t);
      g.drawString(label, LEFT - 8 - fm.stringWidth(label), py + 4);
    }
    g.setColor(Color.BLACK);
    g.drawRect(LEFT, TOP, pw, ph);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    fm = g.getFontMetrics();
    g.drawString(xLabel, LEFT + (pw - fm.stringWidth(xLabel)) / 2, H - 25);
    Graphics2D gy = (Graphics2D) g.create();
    gy.rotate(-Math.PI / 2);
    gy.drawString(yLabel, -(TOP + (ph + fm.stringWidth(yLabel)) / 2), 25);
    gy.dispose();
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    fm = g.getFontMetrics();
    g.drawString(title, (W - fm.stringWidth(title)) / 2, 30);

    g.setClip(LEFT, TOP, pw + 1, ph + 1);
    for (int k = 0; k < series.size(); k++) {
      Series s = series.get(k);
      g.setColor(s.paint(k));
      g.setStroke(s.dashed()
          ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {8f, 5f}, 0f)
          : new BasicStroke(2f));
      Path2D.Double path = new Path2D.Double();
      boolean first = true;
      for (int i = 0; i < s.x().length; i++) {
        if (!ok(s.x()[i], logX) || !ok(s.y()[i], logY)) {
          continue;
        }
        double px = LEFT + ax.frac(s.x()[i]) * pw;
        double py = TOP + ph - ay.frac(s.y()[i]) * ph;
        if (first) {
          path.moveTo(px, py);
          first = false;
        } else {
          path.lineTo(px, py);
        }
        if (s.markers()) {
          g.fillOval((int) px - 3, (int) py - 3, 7, 7);
        }
      }
      g.draw(path);
    }
    g.setClip(null);

    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    fm = g.getFontMetrics();
    int lw = 0;
    for (Series s : series) {
      lw = Math.max(lw, fm.stringWidth(s.name()));
    }
    int lx = LEFT + 12;
    int ly = TOP + 12;
    int lh = series.size() * 18 + 8;
    g.setColor(new Color(255, 255, 255, 230));
    g.fillRect(lx, ly, lw + 50, lh);
    g.setColor(Color.GRAY);
    g.setStroke(new BasicStroke(1f));
    g.drawRect(lx, ly, lw + 50, lh);
    for (int k = 0; k < series.size(); k++) {
      Series s = series.get(k);
      int y = ly + 16 + k * 18;
      g.setColor(s.paint(k));
      g.setStroke(s.dashed()
          ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {8f, 5f}, 0f)
          : new BasicStroke(2f));
      g.drawLine(lx + 8, y - 4, lx + 36, y - 4);
      g.setColor(Color.BLACK);
      g.drawString(s.name(), lx + 42, y);
    }
    g.dispose();
    ImageIO.write(img, "png", file.toFile());
  }

  private static boolean ok(double v, boolean log) {
    return !Double.isNaN(v) && !Double.isInfinite(v) && (!log || v > 0);
  }

  private static String label(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e7) {
      return String.format(Locale.ROOT, "%,d", (long) v);
    }
    return String.format(Locale.ROOT, "%.3g", v);
  }

  /** An axis: the value range and where its ticks go. */
  private static final class Axis {
    final double lo;
    final double hi;
    final boolean log;
    final List<Double> ticks = new ArrayList<>();

    private Axis(double lo, double hi, boolean log) {
      this.lo = lo;
      this.hi = hi;
      this.log = log;
    }

    static Axis linear(double min, double max) {
      if (max <= min) {
        max = min + 1;
      }
      double raw = (max - min) / 8;
      double mag = Math.pow(10, Math.floor(Math.log10(raw)));
      double step = raw / mag < 1.5 ? mag : raw / mag < 3 ? 2 * mag : raw / mag < 7 ? 5 * mag : 10 * mag;
      double lo = Math.floor(min / step) * step;
      double hi = Math.ceil(max / step) * step;
      Axis a = new Axis(lo, hi, false);
      for (double t = lo; t <= hi + step / 2; t += step) {
        a.ticks.add(Math.abs(t) < step / 1e6 ? 0 : t);
      }
      return a;
    }

    static Axis log(double min, double max) {
      double lo = Math.pow(10, Math.floor(Math.log10(min)));
      double hi = Math.pow(10, Math.ceil(Math.log10(max)));
      if (hi <= lo) {
        hi = lo * 10;
      }
      Axis a = new Axis(lo, hi, true);
      boolean few = hi / lo <= 1000.5; // up to three decades: 1, 2, 5, 10, ...
      for (double t = lo; t <= hi * 1.0001; t *= 10) {
        a.ticks.add(t);
        if (few && t * 2 < hi) {
          a.ticks.add(t * 2);
          a.ticks.add(t * 5);
        }
      }
      return a;
    }

    double frac(double v) {
      return log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
    }
  }
}
