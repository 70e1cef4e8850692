/*
 * decodefleet_tensormap.c: the JNI shim under io.decodefleet.agent.backend.cuda.driver.TensorMaps.
 *
 * One driver entry point JCuda 12.0 does not bind: cuTensorMapEncodeTiled, which writes the
 * 128-byte tensor map that TMA copies (cp.async.bulk.tensor) read. It is a host-only function of
 * the driver library (no context, no device work), resolved with dlsym from libcuda.so.1, which
 * JCuda's driver binding has already loaded into the process. Building this file needs neither the
 * CUDA headers nor the library: the one prototype is declared below with the driver's ABI (enums
 * are int-sized, cuuint64_t/cuuint32_t are fixed-width, CUtensorMap is 16 opaque 64-bit words).
 *
 * The encode entry point returns the driver's CUresult unchanged (0 = success); the Java side
 * turns a failure into an exception naming the tensor map's parameters.
 */
#include "decodefleet_jni.h"

#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

typedef int cu_result_t;
typedef struct { _Alignas(64) uint64_t opaque[16]; } tensor_map_t; /* CUtensorMap */
_Static_assert(sizeof(tensor_map_t) == 128, "CUtensorMap is 128 bytes");

typedef cu_result_t (*encode_tiled_t)(tensor_map_t *map, int data_type, uint32_t rank, void *address,
                                      const uint64_t *dims, const uint64_t *strides, const uint32_t *box,
                                      const uint32_t *element_strides, int interleave, int swizzle,
                                      int l2_promotion, int oob_fill);

/* cuLaunchKernelEx's configuration, with the driver's ABI (cuda.h, CUDA 12.0 and later). */
typedef struct {
  int id;                 /* CUlaunchAttributeID */
  char pad[4];
  union {
    char bytes[64];
    int programmatic_stream_serialization_allowed;
  } value;
} launch_attribute_t;
_Static_assert(sizeof(launch_attribute_t) == 72, "CUlaunchAttribute is 72 bytes");

typedef struct {
  unsigned int grid_x, grid_y, grid_z;
  unsigned int block_x, block_y, block_z;
  unsigned int shared_bytes;
  void *stream;
  launch_attribute_t *attrs;
  unsigned int num_attrs;
} launch_config_t;

#define LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION 6

typedef cu_result_t (*launch_kernel_ex_t)(const launch_config_t *config, void *function, void **params, void **extra);

static struct {
  void *handle;
  encode_tiled_t encode_tiled;
  launch_kernel_ex_t launch_kernel_ex; /* NULL: a driver without cuLaunchKernelEx (before CUDA 11.8) */
} drv;

/* Opens the driver library and resolves cuTensorMapEncodeTiled; returns "" or one line saying what failed. */
JNIEXPORT jstring JNICALL Java_io_decodefleet_agent_backend_cuda_driver_TensorMaps_loadDriver(JNIEnv *env, jclass cls,
                                                                                               jstring library) {
  (void)cls;
  if (drv.handle != NULL) {
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
    encode_tiled_t fn;
    *(void **)&fn = resolve(handle, "cuTensorMapEncodeTiled", missing, sizeof missing);
    if (fn == NULL) {
      snprintf(result, sizeof result, "%s has no cuTensorMapEncodeTiled (a driver older than CUDA 12.0?): %s", path,
               missing);
      dlclose(handle);
    } else {
      drv.encode_tiled = fn;
      char absent[512] = "";
      *(void **)&drv.launch_kernel_ex = resolve(handle, "cuLaunchKernelEx", absent, sizeof absent);
      drv.handle = handle;
    }
  }
  (*env)->ReleaseStringUTFChars(env, library, path);
  return (*env)->NewStringUTF(env, result);
}

/*
 * Encodes a rank-2 tiled tensor map into `out` (128 bytes). dims and box are innermost first; the
 * one stride is the outer dimension's, in bytes; element strides are 1.
 */
JNIEXPORT jint JNICALL Java_io_decodefleet_agent_backend_cuda_driver_TensorMaps_encodeTiled2d(
    JNIEnv *env, jclass cls, jint data_type, jlong address, jlong inner, jlong outer, jlong stride_bytes,
    jint box_inner, jint box_outer, jint interleave, jint swizzle, jint l2_promotion, jint oob_fill, jbyteArray out) {
  (void)cls;
  REQUIRE_LOADED_LIBRARY(drv.handle, "libcuda", "cuTensorMapEncodeTiled");
  REQUIRE(address != 0, "encodeTiled2d", "address", "must not be null", address);
  REQUIRE(inner > 0, "encodeTiled2d", "inner", "must be positive", inner);
  REQUIRE(outer > 0, "encodeTiled2d", "outer", "must be positive", outer);
  REQUIRE(stride_bytes > 0, "encodeTiled2d", "strideBytes", "must be positive", stride_bytes);
  REQUIRE(box_inner > 0, "encodeTiled2d", "boxInner", "must be positive", box_inner);
  REQUIRE(box_outer > 0, "encodeTiled2d", "boxOuter", "must be positive", box_outer);
  if (!check_out_length(env, "encodeTiled2d", "out", out, (int)sizeof(tensor_map_t))) {
    return THROWN;
  }
  tensor_map_t map;
  memset(&map, 0, sizeof map);
  uint64_t dims[2] = {(uint64_t)inner, (uint64_t)outer};
  uint64_t strides[1] = {(uint64_t)stride_bytes};
  uint32_t box[2] = {(uint32_t)box_inner, (uint32_t)box_outer};
  uint32_t element_strides[2] = {1, 1};
  cu_result_t status = drv.encode_tiled(&map, data_type, 2, (void *)(uintptr_t)address, dims, strides, box,
                                        element_strides, interleave, swizzle, l2_promotion, oob_fill);
  if (status == 0) {
    (*env)->SetByteArrayRegion(env, out, 0, (jsize)sizeof map, (const jbyte *)&map);
  }
  return status;
}

/* Whether the driver has cuLaunchKernelEx (programmatic dependent launch). */
JNIEXPORT jboolean JNICALL Java_io_decodefleet_agent_backend_cuda_driver_ProgrammaticLaunch_hasLaunchKernelEx(
    JNIEnv *env, jclass cls) {
  (void)env;
  (void)cls;
  return drv.launch_kernel_ex != NULL ? JNI_TRUE : JNI_FALSE;
}

/*
 * Launches `function` (a CUfunction) on `stream` (a CUstream; 0 is the legacy default stream) with
 * the programmatic stream serialization attribute: the kernel may be scheduled while the kernel
 * before it in the stream is still running (each kernel waits for it with griddepcontrol.wait).
 * `params` is the kernel's one parameter, a packed struct of at most 4096 bytes. Returns the
 * driver's CUresult unchanged.
 */
JNIEXPORT jint JNICALL Java_io_decodefleet_agent_backend_cuda_driver_ProgrammaticLaunch_launch(
    JNIEnv *env, jclass cls, jlong function, jint grid_x, jint grid_y, jint grid_z, jint threads, jint shared_bytes,
    jlong stream, jbyteArray params) {
  (void)cls;
  REQUIRE_LOADED_LIBRARY(drv.launch_kernel_ex, "libcuda", "cuLaunchKernelEx");
  REQUIRE(function != 0, "launch", "function", "must not be null", function);
  REQUIRE(grid_x > 0 && grid_y > 0 && grid_z > 0, "launch", "grid", "must be positive", (long long)grid_x);
  REQUIRE(threads > 0, "launch", "threads", "must be positive", (long long)threads);
  REQUIRE(shared_bytes >= 0, "launch", "sharedBytes", "must not be negative", (long long)shared_bytes);
  if (params == NULL) {
    throw_argument(env, "launch", "params", "must not be null", 0);
    return THROWN;
  }
  jsize length = (*env)->GetArrayLength(env, params);
  REQUIRE(length > 0 && length <= 4096, "launch", "params", "must hold 1..4096 bytes", (long long)length);
  _Alignas(64) unsigned char buffer[4096];
  (*env)->GetByteArrayRegion(env, params, 0, length, (jbyte *)buffer);
  void *args[1] = {buffer};
  launch_attribute_t attribute;
  memset(&attribute, 0, sizeof attribute);
  attribute.id = LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
  attribute.value.programmatic_stream_serialization_allowed = 1;
  launch_config_t config = {(unsigned int)grid_x, (unsigned int)grid_y, (unsigned int)grid_z, (unsigned int)threads,
                            1, 1, (unsigned int)shared_bytes, (void *)(uintptr_t)stream, &attribute, 1};
  return drv.launch_kernel_ex(&config, (void *)(uintptr_t)function, args, NULL);
}
