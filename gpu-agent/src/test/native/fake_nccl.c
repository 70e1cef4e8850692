/*
 * fake_nccl.c: a stand-in for libnccl.so.2 with the entry points the shim resolves, for the
 * tests of the JNI glue on machines without NCCL or GPUs. Each call writes one line to stderr with
 * the arguments it received (so a test can check their order and values) and answers by a script
 * keyed on its arguments:
 *   init:       nranks 3 never finishes; nranks 4 fails with ncclRemoteError after one poll;
 *               anything else answers ncclInProgress for three polls, then succeeds.
 *   all-reduce: count 13 fails with ncclInvalidArgument (last error set); count 17 answers
 *               ncclInProgress for two polls.
 *   finalize:   ncclInProgress for one poll.
 * ncclCommCuDevice reports the rank as the device.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char internal[128]; } id_t128;
typedef struct {
  size_t size;
  unsigned int magic;
  unsigned int version;
  int blocking;
  int cga;
  int min_ctas;
  int max_ctas;
  const char *net_name;
} config_t;
struct comm {
  int nranks, rank, polls_left, final_state, polls;
};

static char last_error[128] = "";

static struct comm *make(int nranks, int rank) {
  struct comm *c = calloc(1, sizeof *c);
  c->nranks = nranks;
  c->rank = rank;
  c->polls_left = nranks == 3 ? 1 << 30 : (nranks == 4 ? 1 : 3);
  c->final_state = nranks == 4 ? 6 : 0;
  return c;
}

int ncclGetVersion(int *v) { *v = 22703; fprintf(stderr, "fake version\n"); return 0; }

int ncclGetUniqueId(id_t128 *id) {
  for (int i = 0; i < 128; i++) id->internal[i] = (char)i;
  fprintf(stderr, "fake uniqueid\n");
  return 0;
}

int ncclCommInitRankConfig(struct comm **out, int nranks, id_t128 id, int rank, config_t *cfg) {
  fprintf(stderr, "fake init nranks=%d rank=%d id0=%d id127=%d size=%zu magic=%#x version=%u"
          " blocking=%d cga=%d minctas=%d maxctas=%d net=%s\n", nranks, rank, id.internal[0],
          id.internal[127], cfg->size, cfg->magic, cfg->version, cfg->blocking, cfg->cga,
          cfg->min_ctas, cfg->max_ctas, cfg->net_name == NULL ? "null" : cfg->net_name);
  *out = make(nranks, rank);
  return 7;
}

int ncclCommInitRank(struct comm **out, int nranks, id_t128 id, int rank) {
  fprintf(stderr, "fake blocking init nranks=%d rank=%d id0=%d\n", nranks, rank, id.internal[0]);
  *out = make(nranks, rank);
  (*out)->polls_left = 0;
  return 0;
}

int ncclCommGetAsyncError(struct comm *c, int *state) {
  c->polls++;
  if (c->polls_left > 0) {
    c->polls_left--;
    *state = 7;
  } else {
    *state = c->final_state;
  }
  return 0;
}

int ncclCommCuDevice(struct comm *c, int *device) { *device = c->rank; return 0; }

int ncclCommFinalize(struct comm *c) {
  fprintf(stderr, "fake finalize rank=%d\n", c->rank);
  c->polls_left = 1;
  c->final_state = 0;
  return 7;
}

int ncclCommDestroy(struct comm *c) {
  fprintf(stderr, "fake destroy rank=%d\n", c->rank);
  free(c);
  return 0;
}

int ncclCommAbort(struct comm *c) {
  fprintf(stderr, "fake abort nranks=%d rank=%d polled=%s\n", c->nranks, c->rank,
          c->polls > 1 ? "yes" : "no");
  free(c);
  return 0;
}

int ncclAllReduce(const void *send, void *recv, size_t count, int dtype, int op, struct comm *c,
                  void *stream) {
  fprintf(stderr, "fake allreduce send=%p recv=%p count=%zu dtype=%d op=%d rank=%d stream=%p\n",
          send, recv, count, dtype, op, c->rank, stream);
  if (count == 13) {
    snprintf(last_error, sizeof last_error, "fake: count 13 is refused");
    return 4;
  }
  if (count == 17) {
    c->polls_left = 2;
    c->final_state = 0;
    return 7;
  }
  return 0;
}

int ncclSend(const void *send, size_t count, int dtype, int peer, struct comm *c, void *stream) {
  fprintf(stderr, "fake send buf=%p count=%zu dtype=%d peer=%d rank=%d stream=%p\n", send, count,
          dtype, peer, c->rank, stream);
  return 0;
}

int ncclRecv(void *recv, size_t count, int dtype, int peer, struct comm *c, void *stream) {
  fprintf(stderr, "fake recv buf=%p count=%zu dtype=%d peer=%d rank=%d stream=%p\n", recv, count,
          dtype, peer, c->rank, stream);
  return 0;
}

int ncclGroupStart(void) { fprintf(stderr, "fake groupstart\n"); return 0; }

int ncclGroupEnd(void) { fprintf(stderr, "fake groupend\n"); return 0; }

const char *ncclGetErrorString(int r) {
  switch (r) {
    case 0: return "no error";
    case 4: return "invalid argument (run with NCCL_DEBUG=WARN for details)";
    case 6: return "remote process exited or there was a network error";
    case 7: return "NCCL operation in progress";
    default: return "unknown result code";
  }
}

const char *ncclGetLastError(struct comm *c) { (void)c; return last_error; }
