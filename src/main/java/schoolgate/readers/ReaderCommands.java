package schoolgate.readers;

/**
 * Commands to readers (the guard's manual open). Send {@code {"reader": "r1", "command":
 * {"cmd": "open", "by": "guard", "openMs": 5000}}} to {@link #ADDRESS} on the event bus; the
 * reply says to how many connections it went ({@code {"delivered": n}}; in broker mode 1
 * once the broker has it).
 */
public final class ReaderCommands {

  public static final String ADDRESS = "readers.command";

  private ReaderCommands() {
  }
}
