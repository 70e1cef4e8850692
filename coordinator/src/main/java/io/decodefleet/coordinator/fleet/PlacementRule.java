package io.decodefleet.coordinator.fleet;

import io.decodefleet.agent.engine.BlockHashes;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.SequenceSpec;
import io.decodefleet.coordinator.fleet.SequenceEvent.FailureKind;
import io.decodefleet.coordinator.placement.AgentLoad;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a sequence runs, placed for the first time or again after its agent was lost or drained: the
 * one rule, free of actors and messages, that the coordinator ({@link SequencePlacement}) and the
 * fleet simulation both apply to the coordinator's view of its agents ({@link FleetAgent}).
 *
 * <ol>
 *   <li>In a disaggregated fleet the prefill stage names a prefill agent: the sequence runs there
 *       prefill-only, reserving its tokens so far and its first token.
 *   <li>Otherwise the first {@code worldSize} placeable agents ({@link FleetScope}) that can ever hold
 *       its prompt and max output are the candidates, those under the per-agent sequence bound if
 *       any are; with none it is refused (UNAVAILABLE when no agent is placeable at all, else
 *       CAPACITY). A new sequence that finds every candidate at the bound fails BUSY ({@link #busy}).
 *   <li>The run's policy picks one (a prefix-aware policy by the prompt's cached leading blocks, which
 *       the chosen agent then counts as cached until it reports otherwise).
 *   <li>The chosen agent reserves the sequence's KV at its longest and is sent the prompt and every
 *       token generated so far, the tokens left to generate, and its sampling after those tokens.
 * </ol>
 *
 * A lost agent's sequences go through {@link #evacuate}. Not thread-safe: one owner calls it.
 */
public final class PlacementRule {

  /** Where {@link #place} put a sequence, or why it could not. */
  public sealed interface Outcome permits Placed, Refused {}

  /** The sequence now runs on {@code agent}, which must be sent {@code spec}. */
  public record Placed(FleetAgent agent, SequenceSpec spec) implements Outcome {}

  /** No agent can take it; nothing was reserved. */
  public record Refused(FailureKind kind, String reason) implements Outcome {}

  /** What the owner of the sequences does with each one of an agent that is gone (see {@link #evacuate}). */
  public interface Evacuation {
    /** Forget that it runs on the agent: its reservation there ends. */
    void release(InFlightSequence seq);

    /** It had produced every token it may: it finished (reason "length"). */
    void finished(InFlightSequence seq);

    /** It moves: place it again, with its prompt and every token so far. */
    void replace(InFlightSequence seq);
  }

  private final int maxSequencesPerAgent;
  /** One instance per policy name: a round-robin policy keeps its turn between placements. */
  private final Map<String, PlacementPolicy> policies = new HashMap<>();
  private PrefillStage prefillStage;
  /** The fleet model's block hash salt: prompts are hashed as the agents hash their blocks. */
  private long prefixSalt;

  /** @param maxSequencesPerAgent most sequences placed on one agent (see {@link #busy}) */
  public PlacementRule(int maxSequencesPerAgent) {
    this.maxSequencesPerAgent = maxSequencesPerAgent;
  }

  /** A rule with the coordinator's bound, {@link SequencePlacement#MAX_SEQUENCES_PER_AGENT}. */
  public PlacementRule() {
    this(SequencePlacement.MAX_SEQUENCES_PER_AGENT);
  }

  /**
   * Why a new sequence of {@code totalTokens} should fail BUSY: every agent in scope that could hold
   * it already holds the most sequences it is given; null when one is under the bound (or none
   * could hold it at all, which {@link #place} refuses as CAPACITY).
   */
  public String busy(List<FleetAgent> fleet, int worldSize, int totalTokens) {
    List<FleetAgent> fits = FleetScope.firstLive(fleet, a -> a.placeable, worldSize).stream()
        .filter(a -> a.canHold(totalTokens)).toList();
    if (fits.isEmpty() || fits.stream().anyMatch(a -> a.inFlight < maxSequencesPerAgent)) return null;
    return "every agent that could take the sequence holds " + maxSequencesPerAgent + " sequences, the most it is "
        + "given: retry later";
  }

  /** The fleet now serves {@code model}: prompts are hashed with its salt for prefix-aware placement. */
  public void useModel(ModelSpec model) {
    prefixSalt = BlockHashes.salt(model);
  }

  /** New sequences go through this layout's prefill agents from now on; null: data-parallel. */
  public void usePrefillStage(PrefillStage stage) {
    this.prefillStage = stage;
  }

  /**
   * Places {@code seq} on one of {@code fleet}'s agents and reserves its KV there (it records the
   * agent, the reservation and the tokens it had when placed), or refuses it, reserving nothing.
   */
  public Outcome place(List<FleetAgent> fleet, InFlightSequence seq) {
    int total = seq.totalTokens();
    PlacementPolicy policy = policies.computeIfAbsent(seq.placement, PlacementPolicy::named);
    FleetAgent prefill = prefillStage == null ? null : prefillStage.prefillAgent(seq, policy);
    if (prefill != null) return start(seq, prefill, seq.prefillTokens(), true);
    List<FleetAgent> scope = FleetScope.firstLive(fleet, a -> a.placeable, seq.worldSize);
    List<FleetAgent> fits = scope.stream().filter(a -> a.canHold(total)).toList();
    // A new sequence goes to an agent under the bound (busy() saw one); a moved one may exceed it.
    List<FleetAgent> open = fits.stream().filter(a -> a.inFlight < maxSequencesPerAgent).toList();
    List<FleetAgent> candidates = open.isEmpty() ? fits : open;
    if (candidates.isEmpty()) {
      boolean noneLive = fleet.stream().noneMatch(a -> a.placeable);
      return noneLive ? new Refused(FailureKind.UNAVAILABLE, "no live agent can take the sequence")
          : new Refused(FailureKind.CAPACITY, "prompt " + seq.prompt.length + " + max tokens " + seq.maxTokens + " = "
              + total + " tokens exceeds the KV capacity or model length of every agent");
    }
    if (!policy.readsPrefixCaches()) {
      return start(seq, candidates.get(policy.choose(candidates.stream().map(FleetAgent::load).toList(), total)),
          total, false);
    }
    int[] prompt = seq.continuationPrompt();
    Map<Integer, long[]> chains = new HashMap<>(); // by block size (one per fleet in practice)
    List<AgentLoad> loads = candidates.stream().map(a -> a.load(a.cachedPrefixBlocks(chain(chains, prompt, a))))
        .toList();
    FleetAgent chosen = candidates.get(policy.choose(loads, total));
    chosen.expectCached(chain(chains, prompt, chosen));
    return start(seq, chosen, total, false);
  }

  /** The hash chain of the prompt's full blocks (all but a last token) at {@code agent}'s block size. */
  private long[] chain(Map<Integer, long[]> chains, int[] prompt, FleetAgent agent) {
    return chains.computeIfAbsent(agent.blockSize(), bs -> BlockHashes.chain(prefixSalt, prompt, bs,
        (prompt.length - 1) / bs));
  }

  /** {@code seq} runs on {@code agent} from now on, {@code tokens} of KV reserved there for it. */
  private static Placed start(InFlightSequence seq, FleetAgent agent, int tokens, boolean prefillOnly) {
    agent.reserve(tokens);
    seq.agent = agent;
    seq.reservedTokens = tokens;
    seq.generatedAtPlacement = seq.numGenerated();
    return new Placed(agent, new SequenceSpec(seq.globalId, seq.continuationPrompt(), seq.remainingTokens(),
        prefillOnly, seq.sampling.afterGenerated(seq.numGenerated())));
  }

  /**
   * {@code agent} is gone (lost, or drained of these sequences): it takes no new work, and each of
   * {@code sequences} (those that still run on it) ends its reservation there, then either finished
   * already (it has every token it may produce) or counts one more migration and is placed again
   * with its prompt and every token so far.
   */
  public static void evacuate(FleetAgent agent, List<InFlightSequence> sequences, Evacuation owner) {
    agent.placeable = false;
    for (InFlightSequence seq : sequences) {
      if (seq.agent != agent) continue;
      owner.release(seq);
      if (seq.remainingTokens() == 0) {
        owner.finished(seq);
        continue;
      }
      seq.migrations++;
      owner.replace(seq);
    }
  }
}
