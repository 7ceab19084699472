package schoolgate.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A plain TCP client for what no well-behaved library sends: slow, partial, oversize or
 * malformed MQTT and HTTP. Waits are generous bounds, never measured.
 */
public final class RawSocket implements AutoCloseable {

  private final Socket socket;

  private RawSocket(Socket socket) {
    this.socket = socket;
  }

  public static RawSocket connect(int port) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setTcpNoDelay(true);
    return new RawSocket(s);
  }

  public Socket socket() {
    return socket;
  }

  /** Writes {@code bytes}; false if the peer has closed the connection meanwhile. */
  public boolean write(byte[] bytes) {
    try {
      socket.getOutputStream().write(bytes);
      socket.getOutputStream().flush();
      return true;
    } catch (IOException closed) {
      return false;
    }
  }

  public boolean write(String ascii) {
    return write(ascii.getBytes(StandardCharsets.ISO_8859_1));
  }

  /**
   * Reads until the peer closes the connection, for at most {@code seconds}; returns what
   * arrived, or null if the connection was still open then.
   */
  public byte[] readUntilClosed(long seconds) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    byte[] buf = new byte[8192];
    InputStream in = socket.getInputStream();
    while (System.nanoTime() < deadline) {
      socket.setSoTimeout(500);
      try {
        int n = in.read(buf);
        if (n < 0) {
          return got.toByteArray();
        }
        if (got.size() < 1 << 20) {
          got.write(buf, 0, n);
        }
      } catch (SocketTimeoutException notYet) {
        // keep waiting
      } catch (IOException reset) {
        return got.toByteArray();
      }
    }
    return null;
  }

  /** Whether the peer closed the connection (EOF or reset) within {@code seconds}. */
  public boolean closedWithin(long seconds) throws IOException {
    return readUntilClosed(seconds) != null;
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  // ---- MQTT 3.1.1 packets, encoded by hand ---------------------------------------------

  /** The MQTT "remaining length" variable-length integer. */
  public static byte[] varInt(int value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    do {
      int b = value % 128;
      value /= 128;
      out.write(value > 0 ? b | 0x80 : b);
    } while (value > 0);
    return out.toByteArray();
  }

  private static void utf8(ByteArrayOutputStream out, byte[] s) {
    out.write((s.length >> 8) & 0xFF);
    out.write(s.length & 0xFF);
    out.write(s, 0, s.length);
  }

  /** A CONNECT with the given fields (null = absent); keep-alive 60 s, clean session. */
  public static byte[] connect(String clientId, String username, String password, byte[] will) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    utf8(body, "MQTT".getBytes(StandardCharsets.US_ASCII));
    body.write(4);
    int flags = 0x02;
    if (will != null) {
      flags |= 0x04 | 0x08; // will, QoS 1
    }
    if (username != null) {
      flags |= 0x80;
    }
    if (password != null) {
      flags |= 0x40;
    }
    body.write(flags);
    body.write(0);
    body.write(60);
    utf8(body, clientId.getBytes(StandardCharsets.UTF_8));
    if (will != null) {
      utf8(body, "readers/r1/tap".getBytes(StandardCharsets.UTF_8));
      utf8(body, will);
    }
    if (username != null) {
      utf8(body, username.getBytes(StandardCharsets.UTF_8));
    }
    if (password != null) {
      utf8(body, password.getBytes(StandardCharsets.UTF_8));
    }
    return packet(0x10, body.toByteArray());
  }

  public static byte[] packet(int type, byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(type);
    byte[] len = varInt(body.length);
    out.write(len, 0, len.length);
    out.write(body, 0, body.length);
    return out.toByteArray();
  }
}
