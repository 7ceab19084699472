package schoolgate.demo;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Random;

/**
 * Made-up ID photos (JPEG, 150x200): a coloured background, a head-and-shoulders
 * silhouette and the student's initials. Drawn with java.awt in headless mode, so it works
 * on a server without a display; without any font installed, the initials are left out.
 */
final class Photos {

  static final int WIDTH = 150;
  static final int HEIGHT = 200;

  private boolean fontsWork = true;

  Photos() {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  byte[] portrait(Random random, String fullName, boolean female) {
    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      float hue = random.nextFloat();
      g.setColor(Color.getHSBColor(hue, 0.25f, 0.95f));
      g.fillRect(0, 0, WIDTH, HEIGHT);
      Color body = Color.getHSBColor((hue + 0.5f) % 1f, 0.45f, 0.45f + random.nextFloat() * 0.2f);
      g.setColor(body);
      // shoulders, neck, head
      g.fill(new RoundRectangle2D.Float(15, 140, 120, 90, 60, 60));
      g.fillRect(62, 110, 26, 40);
      g.fill(new Ellipse2D.Float(43, 40, 64, 80));
      if (female) {
        g.setStroke(new BasicStroke(10f));
        g.drawArc(38, 35, 74, 90, 10, 160);
      }
      initials(g, fullName);
    } finally {
      g.dispose();
    }
    return jpeg(image);
  }

  private void initials(Graphics2D g, String fullName) {
    if (!fontsWork) {
      return;
    }
    String[] parts = fullName.split(" ");
    String text = parts.length >= 2 ? parts[1].substring(0, 1) + parts[0].substring(0, 1) : parts[0].substring(0, 1);
    try {
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 30));
      g.setColor(Color.WHITE);
      FontMetrics m = g.getFontMetrics();
      g.drawString(text, (WIDTH - m.stringWidth(text)) / 2, 185);
    } catch (RuntimeException | InternalError | UnsatisfiedLinkError | NoClassDefFoundError noFonts) {
      // A JRE without fontconfig or fonts: the silhouette alone is a good enough photo.
      fontsWork = false;
    }
  }

  private static byte[] jpeg(BufferedImage image) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream stream = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(stream);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(0.8f);
      writer.write(null, new IIOImage(image, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }
}
