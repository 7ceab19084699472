package schoolgate;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import schoolgate.cards.CardEventApplier;
import schoolgate.cards.CardImport;
import schoolgate.cards.CardRepository;
import schoolgate.cards.CardTable;
import schoolgate.config.ConfigException;
import schoolgate.config.ConfigLoader;
import schoolgate.config.GatewayConfig;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** The command line: loads the configuration, then runs the gateway or one of its tools. */
public final class Main {

  static final String USAGE = """
      Usage: java -jar school-gate.jar [COMMAND] [--config FILE]

      Commands:
        (none)          run the gateway
        import FILE     apply card events from FILE (one JSON object per line, as on the
                        uplink) to the database, all or nothing; run it while the gateway
                        is stopped. A bad line is named and nothing is applied.
        hash-password   read a password (typed twice without echo at a terminal, or one
                        line from a pipe), print the hash for "guards"
        demo            run a whole small school on this machine (monitor URL and login
                        are printed)

      Options:
        --config FILE   configuration file (default: conf/gateway.json; built-in defaults
                        if that file does not exist)
        --help          print this text

      Every configuration key can be overridden by an environment variable GATE_ + the key
      path in upper snake case, e.g. readers.port -> GATE_READERS_PORT. Values that parse
      as JSON are taken as JSON: GATE_READERS_MAP='{"r1":{"gate":"main","direction":"in"}}'.
      """;

  static final int EXIT_OK = 0;
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  private Main() {
  }

  public static void main(String[] args) {
    // Java 17 encodes standard output in the locale's charset, US-ASCII on a box without a
    // locale: what the commands print (demo, import's errors naming a line) would lose its
    // Cyrillic. Debian's terminals and the journal read UTF-8.
    System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
    System.exit(run(args));
  }

  static int run(String[] args) {
    List<String> rest = new ArrayList<>();
    Path configFile = Path.of("conf/gateway.json");
    boolean explicitConfig = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h") || a.equals("help")) {
        System.out.print(USAGE);
        return EXIT_OK;
      } else if (a.equals("--config")) {
        if (i + 1 >= args.length) {
          return usage("--config needs a file");
        }
        configFile = Path.of(args[++i]);
        explicitConfig = true;
      } else if (a.startsWith("--config=")) {
        configFile = Path.of(a.substring("--config=".length()));
        explicitConfig = true;
      } else if (a.startsWith("-")) {
        return usage("unknown option " + a);
      } else {
        rest.add(a);
      }
    }
    String command = rest.isEmpty() ? "run" : rest.get(0);
    if (command.equals("hash-password")) {
      return rest.size() == 1 ? hashPassword() : usage("hash-password takes no arguments");
    }
    GatewayConfig config;
    try {
      config = ConfigLoader.load(configFile, explicitConfig, System.getenv());
    } catch (ConfigException e) {
      System.err.println("configuration error: " + e.getMessage());
      return EXIT_USAGE;
    }
    switch (command) {
      case "run":
        return rest.size() == 1 || rest.isEmpty() ? runGateway(config) : usage("unexpected " + rest.get(1));
      case "import":
        return rest.size() == 2 ? importFile(config, Path.of(rest.get(1))) : usage("import needs exactly one FILE");
      case "demo":
        return rest.size() == 1 ? schoolgate.demo.Demo.run(config, System.out) : usage("demo takes no arguments");
      default:
        return usage("unknown command " + command);
    }
  }

  private static int usage(String problem) {
    System.err.println(problem);
    System.err.print(USAGE);
    return EXIT_USAGE;
  }

  private static int runGateway(GatewayConfig config) {
    Logger log = LoggerFactory.getLogger(Main.class);
    Vertx vertx = Vertx.vertx();
    Gateway gateway = new Gateway(vertx, config, Clock.systemDefaultZone());
    try {
      await(gateway.start(), 300);
    } catch (Exception e) {
      log.error("gateway did not start: {}", rootMessage(e));
      await(vertx.close(), 30);
      return EXIT_FAILED;
    }
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("stopping");
      long start = System.nanoTime();
      try {
        await(gateway.stop().eventually(vertx::close), 30);
        log.info("stopped in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      } catch (Exception e) {
        log.warn("unclean stop: {}", rootMessage(e));
      }
      stopped.complete(null);
    }, "shutdown"));
    stopped.join();
    return EXIT_OK;
  }

  private static int importFile(GatewayConfig config, Path file) {
    if (!Files.isReadable(file)) {
      String user = System.getProperty("user.name");
      String why = Files.notExists(file) ? "no such file"
          : Files.exists(file) ? "not readable by user " + user
          : "its folder is not readable by user " + user;
      System.err.println("import: cannot read " + file + " (" + why + ")");
      return EXIT_USAGE;
    }
    CardImport events;
    try {
      events = CardImport.read(file);
    } catch (CardImport.BadLine e) {
      System.err.println("import: " + file + ": " + e.getMessage() + "; nothing was applied");
      return EXIT_FAILED;
    } catch (IOException e) {
      System.err.println("import: cannot read " + file + ": " + e.getMessage());
      return EXIT_USAGE;
    }
    System.out.println("import: " + events.size() + " card events read from " + file
        + ", all valid; applying them in one transaction");
    Vertx vertx = Vertx.vertx();
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "import-progress");
      t.setDaemon(true);
      return t;
    });
    try {
      Gateway.OpenedDatabase opened = await(Gateway.openDatabase(vertx, config), 300);
      try {
        CardTable table = await(new CardRepository(opened.database().pool()).load(new CardTable()), 300);
        CardEventApplier applier = new CardEventApplier(opened.database().pool(), table, Clock.systemDefaultZone());
        long start = System.nanoTime();
        ticker.scheduleAtFixedRate(() -> System.out.println("import: still applying ("
            + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) + " s); nothing is visible until it commits"),
            5, 5, TimeUnit.SECONDS);
        CardEventApplier.Result result = await(events.applyTo(applier), 600);
        ticker.shutdownNow();
        System.out.println("import: applied " + result.applied() + " card events, skipped "
            + result.ignored() + " already applied; card table seq is now " + result.appliedSeq());
        return EXIT_OK;
      } finally {
        opened.database().close();
        if (opened.lock() != null) {
          opened.lock().close();
        }
      }
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      String prefix = cause instanceof CardImport.BadLine ? file + ": " : "";
      System.err.println("import: " + prefix + rootMessage(e) + "; nothing was applied");
      return EXIT_FAILED;
    } finally {
      ticker.shutdownNow();
      await(vertx.close(), 30);
    }
  }

  private static int hashPassword() {
    try {
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String password;
      // At a terminal the password is typed twice without echo. Not Console.readPassword: it
      // decodes in the locale's charset, and a terminal without a locale would garble a
      // Cyrillic password into a hash that the browser's UTF-8 never matches.
      if (stty("-echo")) {
        Thread restore = new Thread(() -> stty("echo"));
        Runtime.getRuntime().addShutdownHook(restore); // Ctrl-C must not leave the echo off
        String again;
        try {
          password = prompt(in, "password: ");
          again = password == null || password.isEmpty() ? password : prompt(in, "again: ");
        } finally {
          stty("echo");
          Runtime.getRuntime().removeShutdownHook(restore);
        }
        if (password != null && !password.equals(again)) {
          System.err.println("hash-password: the two passwords differ; nothing was printed");
          return EXIT_USAGE;
        }
      } else {
        password = in.readLine(); // piped: echo -n '...' | java -jar school-gate.jar hash-password
      }
      if (password == null || password.isEmpty()) {
        System.err.println("hash-password: no password on standard input");
        return EXIT_USAGE;
      }
      System.out.println(BCrypt.withDefaults().hashToString(12, password.toCharArray()));
      return EXIT_OK;
    } catch (IOException e) {
      System.err.println("hash-password: " + e.getMessage());
      return EXIT_FAILED;
    }
  }

  private static String prompt(BufferedReader in, String prompt) throws IOException {
    System.err.print(prompt);
    System.err.flush();
    String line = in.readLine();
    System.err.println();
    return line;
  }

  /** Runs stty on the standard input; false where that is not a terminal. */
  private static boolean stty(String setting) {
    try {
      return new ProcessBuilder("stty", setting).redirectInput(ProcessBuilder.Redirect.INHERIT)
          .redirectError(ProcessBuilder.Redirect.DISCARD).start().waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static <T> T await(Future<T> future, int seconds) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }
}
