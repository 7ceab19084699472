package schoolgate.cards;

import io.vertx.core.Future;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code import FILE}: card events, one JSON object per line, applied through the same
 * {@link CardEventApplier} as the uplink's, in one transaction: all or nothing. Lines may be
 * in any order; events already applied are skipped; the rest must continue the applied seq
 * without a gap. An error names the line.
 */
public final class CardImport {

  /** A line of the file that cannot be applied. */
  public static final class BadLine extends RuntimeException {
    public BadLine(int line, String message) {
      super("line " + line + ": " + message, null, false, false);
    }
  }

  private record Numbered(int line, String text, CardEvent event) {
  }

  private final List<CardEvent> events = new ArrayList<>();
  private final Map<Long, Integer> lineOfSeq = new HashMap<>();

  private CardImport() {
  }

  /** Reads and validates the whole file; throws {@link BadLine} on the first bad line. */
  public static CardImport read(Path file) throws IOException {
    CardImport result = new CardImport();
    Map<Long, Numbered> bySeq = new HashMap<>();
    // Lines are split on the bytes (no UTF-8 sequence contains CR or LF) and decoded one by
    // one, so that a line that is not UTF-8 is named like any other bad line.
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
      String raw;
      int line = 0;
      while ((raw = in.readLine()) != null) {
        line++;
        String text = utf8(raw, line);
        if (text.isBlank()) {
          continue;
        }
        CardEvent event;
        try {
          event = CardEvent.parse(text.strip());
        } catch (BadInput e) {
          throw new BadLine(line, e.getMessage());
        }
        Numbered previous = bySeq.get(event.seq());
        if (previous != null) {
          if (previous.text.equals(text.strip())) {
            continue;
          }
          throw new BadLine(line, "seq " + event.seq() + " already used by line " + previous.line
              + " for a different event");
        }
        bySeq.put(event.seq(), new Numbered(line, text.strip(), event));
        result.events.add(event);
        result.lineOfSeq.put(event.seq(), line);
      }
    }
    return result;
  }

  private static String utf8(String latin1, int line) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
          .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(latin1.getBytes(StandardCharsets.ISO_8859_1)))
          .toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new BadLine(line, "not UTF-8 text");
    }
  }

  public int size() {
    return events.size();
  }

  /** Applies the events; a seq gap is reported as a {@link BadLine} naming the event after it. */
  public Future<CardEventApplier.Result> applyTo(CardEventApplier applier) {
    return applier.apply(events).recover(e -> {
      if (e instanceof CardEventApplier.SeqGap gap) {
        return Future.failedFuture(new BadLine(lineOfSeq.getOrDefault(gap.found(), 0),
            "seq " + gap.found() + " does not follow the applied seq: seq " + gap.expected()
                + " is missing (neither in the database nor in the file)"));
      }
      return Future.failedFuture(e);
    });
  }
}
