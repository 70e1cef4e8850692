package io.decodefleet.agent.engine.tp;

import io.decodefleet.agent.engine.AllReduceTraffic;
import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.StepTiming;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One model replica over K backends (one per device), each a rank of a tensor-parallel group: the
 * engine sees one backend, and so the placement policy sees one agent.
 *
 * <p>Threading: rank 0 lives on the calling thread (the agent's engine thread) and every other
 * rank on a thread of its own, where its backend is made, used and closed (a GPU backend's
 * context is current there only). Each call runs on every rank at once with the same arguments;
 * the ranks' collectives (an all-reduce after the o and down projections) pair up because every
 * rank issues the same calls in the same order. Results come from rank 0: every rank holds the
 * full hidden state after each all-reduce, so rank 0's logits are the replica's.
 *
 * <p>Failure: when a rank throws, the others may be waiting inside a collective for it; the group
 * is aborted on every rank (so they return with an error instead of hanging) and the first error
 * is rethrown. A rank that neither returns nor fails within the timeout is treated the same way.
 */
public final class TensorParallelBackend implements Backend {

  private final List<Backend> ranks = new ArrayList<>();
  private final List<ExecutorService> threads = new ArrayList<>(); // ranks 1..K-1
  private final Duration timeout;
  private final Parallelism parallelism;
  /** The model as loaded (whole, not a rank's shard); null before. */
  private ModelConfig config;
  private AllReduceTraffic allReduces = AllReduceTraffic.NONE;

  /** A tensor-parallel group. */
  public TensorParallelBackend(String label, List<Supplier<Backend>> factories, Duration timeout) {
    this(label, factories, timeout, Parallelism.TENSOR);
  }

  /**
   * Makes rank 0 with {@code factories.get(0)} on this thread and rank i with {@code
   * factories.get(i)} on a thread of its own, then forms the group (every rank joins at once).
   *
   * @param label names the ranks' threads, e.g. the agent's id
   * @param parallelism what the ranks split: heads and MLP columns, or (expert parallelism) the
   *     experts, each rank attending its own sequences (CPU ranks) or every row (CUDA ranks); either
   *     way the engine sees one backend
   */
  public TensorParallelBackend(String label, List<Supplier<Backend>> factories, Duration timeout,
      Parallelism parallelism) {
    if (factories.size() < 2) throw new IllegalArgumentException(parallelism.key() + "=K needs >= 2 ranks");
    this.timeout = timeout;
    this.parallelism = parallelism;
    int size = factories.size();
    try {
      ranks.add(factories.get(0).get());
      for (int r = 1; r < size; r++) {
        String name = label + "-" + parallelism.key() + r;
        threads.add(Executors.newSingleThreadExecutor(task -> {
          Thread t = new Thread(task, name);
          t.setDaemon(true);
          return t;
        }));
      }
      List<Future<Backend>> made = new ArrayList<>();
      for (int r = 1; r < size; r++) made.add(threads.get(r - 1).submit(factories.get(r)::get));
      for (Future<Backend> f : made) ranks.add(await(f, "creating a rank's backend"));
      for (Backend b : ranks) {
        asRank(b).tensorParallelUnsupported().ifPresent(why -> {
          throw new IllegalStateException(why);
        });
      }
      byte[] id = asRank(ranks.get(0)).newTensorGroupId();
      onEveryRank("joining the tensor-parallel group", (b, r) -> {
        asRank(b).joinTensorGroup(new TensorGroupSpec(id, new TensorShard(r, size), timeout, parallelism));
        return null;
      });
    } catch (RuntimeException e) {
      closeQuietly();
      throw e;
    }
  }

  /** {@code b} as a rank, or an IllegalStateException saying that its kind of backend cannot be one. */
  private static TensorParallelRank asRank(Backend b) {
    if (b instanceof TensorParallelRank rank) return rank;
    throw new IllegalStateException("the " + b.name() + " backend cannot run as a tensor-parallel rank");
  }

  /** The group size K. */
  public int size() {
    return ranks.size();
  }

  @Override
  public String name() {
    return ranks.get(0).name();
  }

  @Override
  public String deviceDescription() {
    List<String> devices = new ArrayList<>();
    for (Backend b : ranks) devices.add(b.deviceDescription());
    return (parallelism == Parallelism.EXPERT ? "expert-parallel x" : "tensor-parallel x") + ranks.size() + " over "
        + String.join(" + ", devices);
  }

  @Override
  public void loadModel(ModelLoad load) {
    ModelConfig config = load.config();
    (parallelism == Parallelism.EXPERT ? ExpertShard.unsplittable(config, ranks.size())
        : TensorShard.unsplittable(config, ranks.size())).ifPresent(why -> {
      throw new IllegalArgumentException(why);
    });
    onEveryRank("loading " + config.name(), (b, r) -> {
      b.loadModel(load);
      return null;
    });
    this.config = config;
    allReduces = AllReduceTraffic.NONE;
  }

  /** The fewest blocks any rank can hold: block ids are shared, each rank stores its own heads. */
  @Override
  public int kvBlockCapacity(int blockSize) {
    return onEveryRank("sizing the KV pool", (b, r) -> b.kvBlockCapacity(blockSize)).stream()
        .mapToInt(Integer::intValue).min().orElse(0);
  }

  @Override
  public void allocateKvCache(int numBlocks, int blockSize) {
    onEveryRank("allocating the KV pool", (b, r) -> {
      b.allocateKvCache(numBlocks, blockSize);
      return null;
    });
  }

  @Override
  public float[] forward(ForwardBatch batch) {
    return counted(batch, onEveryRank("a forward step", (b, r) -> b.forward(batch)).get(0));
  }

  @Override
  public int[] forwardGreedy(ForwardBatch batch) {
    return counted(batch, onEveryRank("a forward step", (b, r) -> b.forwardGreedy(batch)).get(0));
  }

  @Override
  public int[] forwardSampled(ForwardBatch batch, SamplingParams[] params, int[] positions) {
    return counted(batch, onEveryRank("a forward step", (b, r) -> b.forwardSampled(batch, params, positions)).get(0));
  }

  /** Profiled where every rank is: each times its own shard's families, its all-reduces included. */
  @Override
  public Optional<String> profileUnsupported() {
    for (Backend rank : ranks) {
      Optional<String> refused = rank.profileUnsupported();
      if (refused.isPresent()) return refused;
    }
    return Optional.empty();
  }

  /** Rank 0's profile: the ranks run the same families on equal shards, waiting for each other in the all-reduces. */
  @Override
  public io.decodefleet.agent.engine.StepProfile.Run forwardProfiled(ForwardBatch batch, SamplingParams[] params,
      int[] positions) {
    return counted(batch, onEveryRank("a profiled step", (b, r) -> b.forwardProfiled(batch, params, positions)).get(0));
  }

  @Override
  public AllReduceTraffic allReduceTraffic() {
    return allReduces;
  }

  /**
   * A step's result, once it ran: adds its all-reduces (after each layer's o and down projections
   * under tensor parallelism; after each MoE layer under expert parallelism on GPU ranks, none on CPU ranks).
   */
  private <T> T counted(ForwardBatch batch, T result) {
    if (parallelism == Parallelism.TENSOR) {
      allReduces = allReduces.plus(AllReduceTraffic.ofStep(config, batch.numTokens()));
    } else if (ranks.get(0).expertLayersAllReduce()) {
      allReduces = allReduces.plus(AllReduceTraffic.ofExpertStep(config, batch.numTokens()));
    }
    return result;
  }

  @Override
  public float[] forwardWithoutCache(int[] tokens) {
    return onEveryRank("the dense recompute", (b, r) -> b.forwardWithoutCache(tokens)).get(0);
  }

  @Override
  public double verifyTolerance() {
    return ranks.get(0).verifyTolerance();
  }

  /** Rank 0's: every rank loads the same way, on its own GPU. */
  @Override
  public String loadReport() {
    return ranks.get(0).loadReport();
  }

  @Override
  public boolean defaultPrefixCaching() {
    return ranks.get(0).defaultPrefixCaching();
  }

  @Override
  public int defaultMaxNumSeqs() {
    return ranks.get(0).defaultMaxNumSeqs();
  }

  @Override
  public int defaultMaxBatchedTokens() {
    return ranks.get(0).defaultMaxBatchedTokens();
  }

  /** Rank 0's: every rank routes the whole batch's tokens (expert parallelism) or holds every expert's slice. */
  @Override
  public io.decodefleet.agent.engine.ExpertLoad lastExpertLoad() {
    return ranks.get(0).lastExpertLoad();
  }

  /** Rank 0's timing: it includes waiting for its peers inside the all-reduces. */
  @Override
  public StepTiming lastStepTiming() {
    return ranks.get(0).lastStepTiming();
  }

  @Override
  public Optional<String> kvTransferUnsupported() {
    return Optional.of("a tensor-parallel replica cannot move KV pages between agents");
  }

  /** The backend of rank {@code r} (for benchmarks that read a rank's own figures). */
  public Backend rank(int r) {
    return ranks.get(r);
  }

  /**
   * Runs {@code call} on every rank's backend, each on its own thread, all at once; the results in
   * rank order. For a rank's own figures or set-up (a benchmark's KV noise), never for model calls
   * that the ranks' collectives must pair up in.
   */
  public <T> List<T> eachRank(Function<Backend, T> call) {
    return onEveryRank("a call on every rank", (b, r) -> call.apply(b));
  }

  /** A call on one rank. */
  private interface RankCall<T> {
    T apply(Backend backend, int rank);
  }

  /** Runs {@code call} on every rank at once (rank 0 here); aborts the group if any rank fails. */
  private <T> List<T> onEveryRank(String what, RankCall<T> call) {
    // The first rank to fail aborts the group at once, from its own thread: its peers may be
    // blocked in a collective waiting for it. Its error is the one reported.
    AtomicReference<RuntimeException> firstFailure = new AtomicReference<>();
    RankCall<T> guarded = (b, r) -> {
      try {
        return call.apply(b, r);
      } catch (RuntimeException e) {
        if (firstFailure.compareAndSet(null, e)) abortAll();
        throw e;
      }
    };
    List<Future<T>> others = new ArrayList<>();
    for (int r = 1; r < ranks.size(); r++) {
      int rank = r;
      others.add(threads.get(r - 1).submit(() -> guarded.apply(ranks.get(rank), rank)));
    }
    List<T> out = new ArrayList<>();
    try {
      out.add(guarded.apply(ranks.get(0), 0));
    } catch (RuntimeException e) {
      // reported below
    }
    for (Future<T> f : others) {
      try {
        out.add(await(f, what));
      } catch (RuntimeException e) {
        if (firstFailure.compareAndSet(null, e)) abortAll();
      }
    }
    if (firstFailure.get() != null) throw firstFailure.get();
    return out;
  }

  private <T> T await(Future<T> f, String what) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new IllegalStateException("tensor-parallel group: " + what + " took longer than " + timeout.toSeconds()
          + " s on a rank");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) throw re;
      if (cause instanceof Error err) throw err;
      throw new IllegalStateException("tensor-parallel group: " + what + ": " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("tensor-parallel group: interrupted during " + what);
    }
  }

  private void abortAll() {
    for (Backend b : ranks) {
      try {
        if (b instanceof TensorParallelRank rank) rank.abortTensorGroup();
      } catch (RuntimeException ignored) {
        // The failure being reported is the rank's own error.
      }
    }
  }

  @Override
  public void close() {
    RuntimeException first = null;
    try {
      onEveryRank("closing", (b, r) -> {
        b.close();
        return null;
      });
    } catch (RuntimeException e) {
      first = e;
    } finally {
      for (ExecutorService t : threads) t.shutdownNow();
    }
    if (first != null) throw first;
  }

  /** After a failed start: closes whatever ranks were made, each on its own thread. */
  private void closeQuietly() {
    for (int r = 0; r < ranks.size(); r++) {
      Backend b = ranks.get(r);
      try {
        if (r == 0) {
          b.close();
        } else {
          threads.get(r - 1).submit(b::close).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
      } catch (Exception ignored) {
        // The failure being reported is the one that stopped the start.
      }
    }
    for (ExecutorService t : threads) t.shutdownNow();
  }
}
