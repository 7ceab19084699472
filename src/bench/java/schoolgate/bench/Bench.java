package schoolgate.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Entry point of the benchmark harness ({@code bench/run}). Each part prints its rows as it
 * goes and writes a Markdown fragment to {@code target/bench/PART.md}, which bench/run puts
 * into docs/benchmarks.md.
 *
 * <pre>
 *   table [SIZES...]       card table: heap per card, cold start, decision latency
 *   taps  [SECONDS]        tap -> decision round trip: gateway vs one hop vs two hop
 *                          (grid from BENCH_RATES="1,100,1000,5000", BENCH_READERS="1,8,64")
 *   jmh                    JMH run of the pure decision function
 *   events                 card events: 100k applied durably (live and by resync), publish-to-effect
 *                          (BENCH_EVENTS, BENCH_EFFECT_EVENTS, BENCH_EFFECT_RATE, BENCH_LOAD_RATE)
 *   outbox                 a backlog of BENCH_PASSES (1,000,000) unsent passes drained to the centre
 *   city  [EVENTS]         city scale: N gateways' uplinks (BENCH_CITY_GATEWAYS="100,700") on one
 *                          broker, a burst of EVENTS card events per school (default 200)
 * </pre>
 */
public final class Bench {

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println("usage: Bench table [SIZES...] | taps [SECONDS] | jmh | events | outbox | city [EVENTS]");
      System.exit(2);
    }
    Path out = Path.of("target/bench");
    Files.createDirectories(out);
    switch (args[0]) {
      case "table" -> {
        int[] sizes = args.length > 1
            ? Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray()
            : TableBench.DEFAULT_SIZES;
        Files.write(out.resolve("table.md"), TableBench.run(sizes));
      }
      case "taps" -> {
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        List<String> rows = new ArrayList<>();
        rows.add("| system | taps/s | readers | sent | lost | p50 | p99 | p99.9 |");
        rows.add("|---|---:|---:|---:|---:|---:|---:|---:|");
        try (Broker broker = Broker.start()) {
          int[] rates = ints(System.getenv().getOrDefault("BENCH_RATES", "1,100,1000,5000"));
          int[] readers = ints(System.getenv().getOrDefault("BENCH_READERS", "1,8,64"));
          List<TapBench.Point> points = TapBench.run(broker, rates, readers, seconds);
          points.forEach(p -> rows.add(p.row()));
          TapBench.plot(points, out);
        }
        Files.write(out.resolve("taps.md"), rows);
      }
      case "events" -> {
        try (Broker broker = Broker.centre()) {
          Files.write(out.resolve("events.md"), EventBench.run(broker, env("BENCH_EVENTS", 100_000),
              env("BENCH_EFFECT_EVENTS", 1_000), env("BENCH_EFFECT_RATE", 20), env("BENCH_LOAD_RATE", 1_000)));
        }
      }
      case "outbox" -> {
        try (Broker broker = Broker.start()) {
          Files.write(out.resolve("outbox.md"), OutboxBench.run(broker, env("BENCH_PASSES", 1_000_000)));
        }
      }
      case "city" -> CityBench.write(out, args.length > 1 ? Integer.parseInt(args[1]) : CityBench.EVENTS);
      case "jmh" -> org.openjdk.jmh.Main.main(new String[] {"-rf", "text", "-rff", out.resolve("jmh.txt").toString(),
          "DecisionJmh"});
      default -> {
        System.err.println("unknown part " + args[0]);
        System.exit(2);
      }
    }
    System.exit(0);
  }

  private static int env(String name, int otherwise) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? otherwise : Integer.parseInt(v.trim());
  }

  private static int[] ints(String csv) {
    return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
  }
}
