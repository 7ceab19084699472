package schoolgate.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on the embedded database's data directory ({@code <db.dir>.lock}), held
 * for the life of the gateway or of an {@code import}. The operating system drops it when
 * the process dies, so holding it also proves that any server still running on that
 * directory is an orphan of a dead gateway.
 */
public final class DataDirLock implements AutoCloseable {

  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  public static DataDirLock acquire(String dir) {
    Path data = Path.of(dir).toAbsolutePath();
    Path file = data.resolveSibling(data.getFileName() + ".lock");
    try {
      Files.createDirectories(data.getParent());
      FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        channel.close();
        throw new IllegalStateException("the database in " + data
            + " is in use by another gateway or import (" + file + " is locked); stop it first");
      }
      return new DataDirLock(channel, lock);
    } catch (IOException e) {
      throw new IllegalStateException("cannot lock " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException ignored) {
      // the process is going away anyway
    }
  }
}
