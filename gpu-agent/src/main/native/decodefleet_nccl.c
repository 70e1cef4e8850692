/*
 * decodefleet_nccl.c: the JNI shim under io.decodefleet.agent.nccl.Nccl.
 *
 * NCCL is opened at run time with dlopen (by default "libnccl.so.2", found the way the dynamic
 * loader finds any library; the Java side may pass a full path instead), so building this file
 * needs neither NCCL's headers nor its library: the few types it uses are declared below with
 * NCCL's ABI (enums are int-sized; handles and CUDA streams are pointers; the unique id is a
 * 128-byte struct passed by value).
 *
 * Each entry point is named after the NCCL call it makes and returns NCCL's status unchanged; the
 * Java side is the one place where a status becomes an exception. What can never be a valid call
 * (a null handle or pointer, a negative count, an id that is not 128 bytes, an unknown data type)
 * throws IllegalArgumentException here, naming the function and the parameter; a call before
 * NCCL was loaded throws IllegalStateException. Handles, device pointers and streams cross JNI as
 * jlong; only the library path and diagnostic texts cross as strings.
 */
#include "decodefleet_jni.h"

#include <dlfcn.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- NCCL's ABI, declared here ------------------------------------------------------------ */

typedef int nccl_result_t;                 /* ncclResult_t */
enum { NCCL_SUCCESS = 0, NCCL_INVALID_ARGUMENT = 4 };

typedef struct nccl_comm *nccl_comm_t;     /* ncclComm_t: opaque */
typedef void *cuda_stream_t;               /* cudaStream_t */

#define NCCL_UNIQUE_ID_BYTES 128
typedef struct { char internal[NCCL_UNIQUE_ID_BYTES]; } nccl_unique_id_t; /* ncclUniqueId */

enum { NCCL_FLOAT32 = 7, NCCL_BFLOAT16 = 9 }; /* ncclDataType_t values we send */
enum { NCCL_SUM = 0 };                        /* ncclRedOp_t */

/*
 * ncclConfig_t as NCCL 2.17 lays it out. The struct is versioned and only ever grows at its end:
 * NCCL copies the first `size` bytes over its own defaults and ignores fields newer than
 * `version`, so this prefix is read correctly by every later release.
 */
typedef struct {
  size_t size;
  unsigned int magic;
  unsigned int version;
  int blocking;
  int cga_cluster_size;
  int min_ctas;
  int max_ctas;
  const char *net_name;
} nccl_config_t;
#define NCCL_CONFIG_MAGIC 0xcafebeefu
#define NCCL_CONFIG_VERSION 21700 /* 2.17.0, as NCCL encodes versions: major*10000 + minor*100 */
#define NCCL_CONFIG_UNDEF_INT INT_MIN
_Static_assert(sizeof(nccl_config_t) == 40, "ncclConfig_t 2.17 prefix is 40 bytes");
_Static_assert(offsetof(nccl_config_t, blocking) == 16, "blocking follows size, magic, version");
_Static_assert(offsetof(nccl_config_t, net_name) == 32, "netName follows the four CTA ints");
_Static_assert(sizeof(nccl_unique_id_t) == 128, "ncclUniqueId is 128 bytes");

/* ---- the library, resolved once ----------------------------------------------------------- */

static struct {
  void *handle;
  nccl_result_t (*get_version)(int *);
  nccl_result_t (*get_unique_id)(nccl_unique_id_t *);
  nccl_result_t (*comm_init_rank)(nccl_comm_t *, int, nccl_unique_id_t, int);
  nccl_result_t (*comm_destroy)(nccl_comm_t);
  nccl_result_t (*comm_abort)(nccl_comm_t);
  nccl_result_t (*comm_get_async_error)(nccl_comm_t, nccl_result_t *);
  nccl_result_t (*all_reduce)(const void *, void *, size_t, int, int, nccl_comm_t, cuda_stream_t);
  nccl_result_t (*send)(const void *, size_t, int, int, nccl_comm_t, cuda_stream_t);
  nccl_result_t (*recv)(void *, size_t, int, int, nccl_comm_t, cuda_stream_t);
  nccl_result_t (*group_start)(void);
  nccl_result_t (*group_end)(void);
  const char *(*get_error_string)(nccl_result_t);
  /* Optional: absent before NCCL 2.14 (config, finalize) or 2.13 (last error). */
  nccl_result_t (*comm_init_rank_config)(nccl_comm_t *, int, nccl_unique_id_t, int, nccl_config_t *);
  nccl_result_t (*comm_finalize)(nccl_comm_t);
  nccl_result_t (*comm_cu_device)(nccl_comm_t, int *);
  const char *(*get_last_error)(nccl_comm_t);
  /* Optional: absent before NCCL 2.18. */
  nccl_result_t (*comm_split)(nccl_comm_t, int, int, nccl_comm_t *, nccl_config_t *);
} nccl;

#define REQUIRE_LOADED(function) REQUIRE_LOADED_LIBRARY(nccl.handle, "NCCL", function)

static int check_out(JNIEnv *env, const char *function, const char *param, jarray out) {
  return check_out_length(env, function, param, out, 1);
}

static int check_id(JNIEnv *env, const char *function, jbyteArray id) {
  jsize length = id == NULL ? -1 : (*env)->GetArrayLength(env, id);
  if (length != NCCL_UNIQUE_ID_BYTES) {
    throw_argument(env, function, "id", "must be a byte[128] (length shown; -1 for null)", length);
    return 0;
  }
  return 1;
}

static int check_dtype(JNIEnv *env, const char *function, jint dtype) {
  if (dtype != NCCL_FLOAT32 && dtype != NCCL_BFLOAT16) {
    throw_argument(env, function, "dtype", "must be ncclFloat32 (7) or ncclBfloat16 (9)", dtype);
    return 0;
  }
  return 1;
}

/* Opens NCCL and resolves its entry points; returns "" or one line saying what failed. */
JNIEXPORT jstring JNICALL Java_io_decodefleet_agent_nccl_Nccl_loadLibrary(JNIEnv *env, jclass cls,
                                                                          jstring library) {
  (void)cls;
  if (library != NULL && nccl.handle != NULL) {
    return (*env)->NewStringUTF(env, "");
  }
  const char *path = library_path(env, library);
  if (path == NULL) {
    return NULL;
  }
  char result[1024] = "";
  void *handle = open_library(path, result, sizeof result);
  if (handle != NULL) {
    char missing[512] = "";
    *(void **)&nccl.get_version = resolve(handle, "ncclGetVersion", missing, sizeof missing);
    *(void **)&nccl.get_unique_id = resolve(handle, "ncclGetUniqueId", missing, sizeof missing);
    *(void **)&nccl.comm_init_rank = resolve(handle, "ncclCommInitRank", missing, sizeof missing);
    *(void **)&nccl.comm_destroy = resolve(handle, "ncclCommDestroy", missing, sizeof missing);
    *(void **)&nccl.comm_abort = resolve(handle, "ncclCommAbort", missing, sizeof missing);
    *(void **)&nccl.comm_get_async_error =
        resolve(handle, "ncclCommGetAsyncError", missing, sizeof missing);
    *(void **)&nccl.all_reduce = resolve(handle, "ncclAllReduce", missing, sizeof missing);
    *(void **)&nccl.send = resolve(handle, "ncclSend", missing, sizeof missing);
    *(void **)&nccl.recv = resolve(handle, "ncclRecv", missing, sizeof missing);
    *(void **)&nccl.group_start = resolve(handle, "ncclGroupStart", missing, sizeof missing);
    *(void **)&nccl.group_end = resolve(handle, "ncclGroupEnd", missing, sizeof missing);
    *(void **)&nccl.get_error_string = resolve(handle, "ncclGetErrorString", missing, sizeof missing);
    if (missing[0] != '\0') {
      snprintf(result, sizeof result, "%s lacks a symbol the shim needs: %s", path, missing);
      dlclose(handle);
      memset(&nccl, 0, sizeof nccl);
    } else {
      *(void **)&nccl.comm_init_rank_config = dlsym(handle, "ncclCommInitRankConfig");
      *(void **)&nccl.comm_finalize = dlsym(handle, "ncclCommFinalize");
      *(void **)&nccl.comm_cu_device = dlsym(handle, "ncclCommCuDevice");
      *(void **)&nccl.get_last_error = dlsym(handle, "ncclGetLastError");
      *(void **)&nccl.comm_split = dlsym(handle, "ncclCommSplit");
      dlerror();
      nccl.handle = handle;
    }
  }
  (*env)->ReleaseStringUTFChars(env, library, path);
  return (*env)->NewStringUTF(env, result);
}

/* Whether an optional entry point was found: "ncclCommInitRankConfig", "ncclCommFinalize",
 * "ncclCommCuDevice", "ncclGetLastError" or "ncclCommSplit". */
JNIEXPORT jboolean JNICALL Java_io_decodefleet_agent_nccl_Nccl_hasSymbol(JNIEnv *env, jclass cls,
                                                                        jstring name) {
  (void)cls;
  if (nccl.handle == NULL || name == NULL) {
    return JNI_FALSE;
  }
  const char *s = (*env)->GetStringUTFChars(env, name, NULL);
  if (s == NULL) {
    return JNI_FALSE;
  }
  jboolean found = JNI_FALSE;
  if (strcmp(s, "ncclCommInitRankConfig") == 0) {
    found = nccl.comm_init_rank_config != NULL;
  } else if (strcmp(s, "ncclCommFinalize") == 0) {
    found = nccl.comm_finalize != NULL;
  } else if (strcmp(s, "ncclCommCuDevice") == 0) {
    found = nccl.comm_cu_device != NULL;
  } else if (strcmp(s, "ncclGetLastError") == 0) {
    found = nccl.get_last_error != NULL;
  } else if (strcmp(s, "ncclCommSplit") == 0) {
    found = nccl.comm_split != NULL;
  }
  (*env)->ReleaseStringUTFChars(env, name, s);
  return found;
}

JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclGetVersion(JNIEnv *env, jclass cls,
                                                                         jintArray version) {
  (void)cls;
  REQUIRE_LOADED("ncclGetVersion");
  if (!check_out(env, "ncclGetVersion", "version", version)) {
    return THROWN;
  }
  int v = 0;
  nccl_result_t rc = nccl.get_version(&v);
  jint out = v;
  (*env)->SetIntArrayRegion(env, version, 0, 1, &out);
  return rc;
}

JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclGetUniqueId(JNIEnv *env, jclass cls,
                                                                          jbyteArray id) {
  (void)cls;
  REQUIRE_LOADED("ncclGetUniqueId");
  if (!check_id(env, "ncclGetUniqueId", id)) {
    return THROWN;
  }
  nccl_unique_id_t uid;
  memset(&uid, 0, sizeof uid);
  nccl_result_t rc = nccl.get_unique_id(&uid);
  (*env)->SetByteArrayRegion(env, id, 0, NCCL_UNIQUE_ID_BYTES, (const jbyte *)uid.internal);
  return rc;
}

/*
 * Creates this rank's communicator on the calling thread's current CUDA device. With blocking 0
 * (and NCCL 2.14 or newer) the call returns at once, usually with ncclInProgress: the caller polls
 * ncclCommGetAsyncError and aborts on its own deadline. The handle is written even then.
 */
JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclCommInitRank(
    JNIEnv *env, jclass cls, jlongArray comm, jint nranks, jbyteArray id, jint rank, jint blocking) {
  (void)cls;
  static const char *const fn = "ncclCommInitRank";
  REQUIRE_LOADED("ncclCommInitRank");
  if (!check_out(env, fn, "comm", comm) || !check_id(env, fn, id)) {
    return THROWN;
  }
  REQUIRE(nranks >= 1, fn, "nranks", "must be >= 1", nranks);
  REQUIRE(rank >= 0 && rank < nranks, fn, "rank", "must be in [0, nranks)", rank);
  REQUIRE(blocking == 0 || blocking == 1, fn, "blocking", "must be 0 or 1", blocking);
  REQUIRE(blocking == 1 || nccl.comm_init_rank_config != NULL, fn, "blocking",
          "must be 1: this NCCL has no ncclCommInitRankConfig", blocking);
  nccl_unique_id_t uid;
  (*env)->GetByteArrayRegion(env, id, 0, NCCL_UNIQUE_ID_BYTES, (jbyte *)uid.internal);
  nccl_comm_t handle = NULL;
  nccl_result_t rc;
  if (blocking == 0) {
    nccl_config_t config = {sizeof(nccl_config_t), NCCL_CONFIG_MAGIC, NCCL_CONFIG_VERSION, 0,
                            NCCL_CONFIG_UNDEF_INT, NCCL_CONFIG_UNDEF_INT, NCCL_CONFIG_UNDEF_INT,
                            NULL};
    rc = nccl.comm_init_rank_config(&handle, nranks, uid, rank, &config);
  } else {
    rc = nccl.comm_init_rank(&handle, nranks, uid, rank);
  }
  jlong out = (jlong)(intptr_t)handle;
  (*env)->SetLongArrayRegion(env, comm, 0, 1, &out);
  return rc;
}

#define COMM_CALL(function, member)                                                               \
  JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_##function(JNIEnv *env, jclass cls,  \
                                                                        jlong comm) {             \
    (void)cls;                                                                                    \
    REQUIRE_LOADED(#function);                                                                    \
    REQUIRE(comm != 0, #function, "comm", "must not be null", comm);                              \
    if (nccl.member == NULL) {                                                                    \
      throw_new(env, "java/lang/IllegalStateException", #function ": absent from this NCCL");     \
      return THROWN;                                                                              \
    }                                                                                             \
    return nccl.member((nccl_comm_t)(intptr_t)comm);                                              \
  }

COMM_CALL(ncclCommFinalize, comm_finalize)
COMM_CALL(ncclCommDestroy, comm_destroy)
COMM_CALL(ncclCommAbort, comm_abort)

JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclCommGetAsyncError(
    JNIEnv *env, jclass cls, jlong comm, jintArray state) {
  (void)cls;
  static const char *const fn = "ncclCommGetAsyncError";
  REQUIRE_LOADED("ncclCommGetAsyncError");
  REQUIRE(comm != 0, fn, "comm", "must not be null", comm);
  if (!check_out(env, fn, "state", state)) {
    return THROWN;
  }
  nccl_result_t async_error = NCCL_SUCCESS;
  nccl_result_t rc = nccl.comm_get_async_error((nccl_comm_t)(intptr_t)comm, &async_error);
  jint out = async_error;
  (*env)->SetIntArrayRegion(env, state, 0, 1, &out);
  return rc;
}

typedef struct {
  nccl_comm_t handle;
  nccl_config_t config;
} split_slot_t;

/*
 * Starts a new communicator of the ranks of `comm` that pass the same color, ordered by key, with
 * its own blocking mode. Collective over `comm`. With a non-blocking parent NCCL may finish in the
 * background and write the new handle later, so it goes to a heap slot whose address is returned
 * in slot[0]: once the parent reports success, ncclTakeSplitComm reads the handle and frees the
 * slot. A slot whose split never finished is left allocated (NCCL may still write to it).
 */
JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclCommSplit(
    JNIEnv *env, jclass cls, jlong comm, jint color, jint key, jlongArray slot, jint blocking) {
  (void)cls;
  static const char *const fn = "ncclCommSplit";
  REQUIRE_LOADED("ncclCommSplit");
  REQUIRE(comm != 0, fn, "comm", "must not be null", comm);
  REQUIRE(color >= 0, fn, "color", "must be >= 0", color);
  REQUIRE(blocking == 0 || blocking == 1, fn, "blocking", "must be 0 or 1", blocking);
  if (!check_out(env, fn, "slot", slot)) {
    return THROWN;
  }
  if (nccl.comm_split == NULL) {
    throw_new(env, "java/lang/IllegalStateException", "ncclCommSplit: absent from this NCCL");
    return THROWN;
  }
  /* The handle and the config live on the heap: a split finishing in the background may still
   * read the one and write the other after this returns. */
  split_slot_t *pending = calloc(1, sizeof *pending);
  if (pending == NULL) {
    throw_new(env, "java/lang/OutOfMemoryError", "ncclCommSplit: no memory for the handle slot");
    return THROWN;
  }
  nccl_config_t config = {sizeof(nccl_config_t), NCCL_CONFIG_MAGIC, NCCL_CONFIG_VERSION, blocking,
                          NCCL_CONFIG_UNDEF_INT, NCCL_CONFIG_UNDEF_INT, NCCL_CONFIG_UNDEF_INT, NULL};
  pending->config = config;
  nccl_result_t rc =
      nccl.comm_split((nccl_comm_t)(intptr_t)comm, color, key, &pending->handle, &pending->config);
  jlong out = (jlong)(intptr_t)pending;
  (*env)->SetLongArrayRegion(env, slot, 0, 1, &out);
  return rc;
}

/* The communicator a finished ncclCommSplit wrote to its slot (0 if none); frees the slot. */
JNIEXPORT jlong JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclTakeSplitComm(JNIEnv *env, jclass cls,
                                                                            jlong slot) {
  (void)env;
  (void)cls;
  if (slot == 0) {
    return 0;
  }
  split_slot_t *pending = (split_slot_t *)(intptr_t)slot;
  jlong out = (jlong)(intptr_t)pending->handle;
  free(pending);
  return out;
}

JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclCommCuDevice(JNIEnv *env, jclass cls,
                                                                           jlong comm,
                                                                           jintArray device) {
  (void)cls;
  static const char *const fn = "ncclCommCuDevice";
  REQUIRE_LOADED("ncclCommCuDevice");
  REQUIRE(comm != 0, fn, "comm", "must not be null", comm);
  if (!check_out(env, fn, "device", device)) {
    return THROWN;
  }
  if (nccl.comm_cu_device == NULL) {
    throw_new(env, "java/lang/IllegalStateException", "ncclCommCuDevice: absent from this NCCL");
    return THROWN;
  }
  int d = -1;
  nccl_result_t rc = nccl.comm_cu_device((nccl_comm_t)(intptr_t)comm, &d);
  jint out = d;
  (*env)->SetIntArrayRegion(env, device, 0, 1, &out);
  return rc;
}

/* Sum of `count` elements of `dtype` across ranks; in place when send == recv. */
JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclAllReduce(
    JNIEnv *env, jclass cls, jlong send, jlong recv, jlong count, jint dtype, jint op, jlong comm,
    jlong stream) {
  (void)cls;
  static const char *const fn = "ncclAllReduce";
  REQUIRE_LOADED("ncclAllReduce");
  REQUIRE(send != 0, fn, "sendbuff", "must not be null", send);
  REQUIRE(recv != 0, fn, "recvbuff", "must not be null", recv);
  REQUIRE(count >= 0, fn, "count", "must be >= 0", count);
  if (!check_dtype(env, fn, dtype)) {
    return THROWN;
  }
  REQUIRE(op == NCCL_SUM, fn, "op", "must be ncclSum (0)", op);
  REQUIRE(comm != 0, fn, "comm", "must not be null", comm);
  return nccl.all_reduce((const void *)(intptr_t)send, (void *)(intptr_t)recv, (size_t)count,
                         dtype, op, (nccl_comm_t)(intptr_t)comm, (cuda_stream_t)(intptr_t)stream);
}

JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclSend(JNIEnv *env, jclass cls,
                                                                   jlong send, jlong count,
                                                                   jint dtype, jint peer,
                                                                   jlong comm, jlong stream) {
  (void)cls;
  static const char *const fn = "ncclSend";
  REQUIRE_LOADED("ncclSend");
  REQUIRE(send != 0, fn, "sendbuff", "must not be null", send);
  REQUIRE(count >= 0, fn, "count", "must be >= 0", count);
  if (!check_dtype(env, fn, dtype)) {
    return THROWN;
  }
  REQUIRE(peer >= 0, fn, "peer", "must be >= 0", peer);
  REQUIRE(comm != 0, fn, "comm", "must not be null", comm);
  return nccl.send((const void *)(intptr_t)send, (size_t)count, dtype, peer,
                   (nccl_comm_t)(intptr_t)comm, (cuda_stream_t)(intptr_t)stream);
}

JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclRecv(JNIEnv *env, jclass cls,
                                                                   jlong recv, jlong count,
                                                                   jint dtype, jint peer,
                                                                   jlong comm, jlong stream) {
  (void)cls;
  static const char *const fn = "ncclRecv";
  REQUIRE_LOADED("ncclRecv");
  REQUIRE(recv != 0, fn, "recvbuff", "must not be null", recv);
  REQUIRE(count >= 0, fn, "count", "must be >= 0", count);
  if (!check_dtype(env, fn, dtype)) {
    return THROWN;
  }
  REQUIRE(peer >= 0, fn, "peer", "must be >= 0", peer);
  REQUIRE(comm != 0, fn, "comm", "must not be null", comm);
  return nccl.recv((void *)(intptr_t)recv, (size_t)count, dtype, peer,
                   (nccl_comm_t)(intptr_t)comm, (cuda_stream_t)(intptr_t)stream);
}

JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclGroupStart(JNIEnv *env, jclass cls) {
  (void)cls;
  REQUIRE_LOADED("ncclGroupStart");
  return nccl.group_start();
}

JNIEXPORT jint JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclGroupEnd(JNIEnv *env, jclass cls) {
  (void)cls;
  REQUIRE_LOADED("ncclGroupEnd");
  return nccl.group_end();
}

JNIEXPORT jstring JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclGetErrorString(JNIEnv *env,
                                                                                jclass cls,
                                                                                jint result) {
  (void)cls;
  if (nccl.handle == NULL) {
    throw_new(env, "java/lang/IllegalStateException", "ncclGetErrorString: NCCL is not loaded");
    return NULL;
  }
  const char *s = nccl.get_error_string(result);
  return (*env)->NewStringUTF(env, s != NULL ? s : "");
}

/* NCCL's last error message ("" when none or when this NCCL lacks ncclGetLastError). */
JNIEXPORT jstring JNICALL Java_io_decodefleet_agent_nccl_Nccl_ncclGetLastError(JNIEnv *env,
                                                                              jclass cls,
                                                                              jlong comm) {
  (void)cls;
  const char *s = nccl.handle != NULL && nccl.get_last_error != NULL
                      ? nccl.get_last_error((nccl_comm_t)(intptr_t)comm)
                      : NULL;
  return (*env)->NewStringUTF(env, s != NULL ? s : "");
}
