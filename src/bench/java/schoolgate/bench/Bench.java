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
 *   city  [EVENTS]         city scale: N gateways' uplinks (BENCH_CITY_GATEWAYS="100,700") on one
 *                          broker, a burst of EVENTS card events per school (default 200)
 * </pre>
 */
public final class Bench {

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println("usage: Bench table [SIZES...] | taps [SECONDS] | jmh | city [EVENTS]");
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

  private static int[] ints(String csv) {
    return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
  }
}
