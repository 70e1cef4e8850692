package io.decodefleet.coordinator.fleet;

import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.engine.tp.Parallelism;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How the agents of a fleet share the work of each sequence. */
public sealed interface ParallelLayout {

  /** The default: every agent a full replica. */
  ParallelLayout DATA_PARALLEL = new DataParallel();

  /** "dp", "tp=K", "ep=K" or "disagg=P:D": what {@link #parse} reads. */
  String label();

  /** The agents the layout needs, or 0 when it takes any number. */
  int agents();

  /** GPUs (or CPU ranks) per agent (replica): K for tensor or expert parallelism, else 1. */
  default int tensorParallel() {
    return 1;
  }

  /** What the devices of one replica split, when there are several. */
  default Parallelism parallelism() {
    return Parallelism.TENSOR;
  }

  /**
   * Expert parallelism: every agent a replica over {@code size} devices of one node, each holding
   * 1/size of every layer's experts and whole copies of the rest, attention data-parallel (each
   * sequence attended on one device), tokens dispatched to their experts' devices and combined back.
   * On CUDA agents every rank attends every row (docs/moe.md); the coordinator places whole
   * sequences on these replicas either way.
   */
  record ExpertParallel(int size) implements ParallelLayout {
    public ExpertParallel {
      if (size < 2 || size > 64) throw new IllegalArgumentException("ep=K needs K in 2..64, got " + size);
    }

    @Override
    public String label() {
      return "ep=" + size;
    }

    @Override
    public int agents() {
      return 0;
    }

    @Override
    public int tensorParallel() {
      return size;
    }

    @Override
    public Parallelism parallelism() {
      return Parallelism.EXPERT;
    }
  }

  /**
   * Tensor parallelism: every agent a replica over {@code size} GPUs of one node, its heads and MLP
   * columns split across them, an NCCL all-reduce after attention and after the MLP; the
   * coordinator places whole sequences on these replicas as on data-parallel agents.
   */
  record TensorParallel(int size) implements ParallelLayout {
    public TensorParallel {
      if (size < 2 || size > 64) throw new IllegalArgumentException("tp=K needs K in 2..64, got " + size);
    }

    @Override
    public String label() {
      return "tp=" + size;
    }

    @Override
    public int agents() {
      return 0;
    }

    @Override
    public int tensorParallel() {
      return size;
    }
  }

  /** Every agent a full replica; the coordinator shards whole sequences across them. */
  record DataParallel() implements ParallelLayout {
    @Override
    public String label() {
      return "dp";
    }

    @Override
    public int agents() {
      return 0;
    }
  }

  /**
   * Disaggregated prefill/decode: the first {@code prefillAgents} agents of the fleet (by id) run
   * prompts and sample each sequence's first token; each prefilled sequence's KV then moves over
   * NCCL to one of the next {@code decodeAgents} agents, which decodes the rest.
   *
   * @param transfer how each transfer issues its device work
   */
  record Disaggregated(int prefillAgents, int decodeAgents, KvTransferMode transfer) implements ParallelLayout {
    public Disaggregated {
      if (prefillAgents < 1 || decodeAgents < 1) {
        throw new IllegalArgumentException("disagg=P:D needs P >= 1 and D >= 1, got " + prefillAgents + ":"
            + decodeAgents);
      }
      if (transfer == null) throw new IllegalArgumentException("the KV transfer mode must be given");
    }

    @Override
    public String label() {
      return "disagg=" + prefillAgents + ":" + decodeAgents;
    }

    @Override
    public int agents() {
      return prefillAgents + decodeAgents;
    }

    /** Whether agent {@code index} of the fleet (by id) prefills. */
    public boolean prefills(int index) {
      return index < prefillAgents;
    }
  }

  Pattern DISAGG = Pattern.compile("disagg=(\\d{1,4}):(\\d{1,4})");
  Pattern TP = Pattern.compile("tp=(\\d{1,4})");
  Pattern EP = Pattern.compile("ep=(\\d{1,4})");

  /**
   * "dp", "tp=K" or "ep=K" (K >= 2) or "disagg=P:D" (P, D >= 1) with {@code transfer} for the disaggregated one; an
   * IllegalArgumentException with one line saying what is accepted otherwise.
   */
  static ParallelLayout parse(String text, KvTransferMode transfer) {
    String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
    if (t.equals("dp")) return DATA_PARALLEL;
    Matcher m = DISAGG.matcher(t);
    if (m.matches()) return new Disaggregated(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), transfer);
    Matcher tp = TP.matcher(t);
    if (tp.matches()) return new TensorParallel(Integer.parseInt(tp.group(1)));
    Matcher ep = EP.matcher(t);
    if (ep.matches()) return new ExpertParallel(Integer.parseInt(ep.group(1)));
    throw new IllegalArgumentException("must be dp, tp=K (K GPUs per replica, e.g. tp=2), ep=K (a mixture of experts' "
        + "experts over K devices per replica) or disagg=P:D (P prefill and D decode agents, e.g. disagg=1:1), got '"
        + text + "'");
  }
}
