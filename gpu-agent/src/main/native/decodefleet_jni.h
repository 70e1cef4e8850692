/*
 * decodefleet_jni.h: what the project's JNI shims (NCCL's, cuBLASLt's) share: raising a Java
 * exception that names the function and the parameter, the argument checks built on it, and
 * resolving a symbol of a dlopen-ed library while keeping the first failure.
 */
#ifndef DECODEFLEET_JNI_H
#define DECODEFLEET_JNI_H

#include <jni.h>

#include <dlfcn.h>
#include <stdio.h>

static void throw_new(JNIEnv *env, const char *class_name, const char *message) {
  jclass cls = (*env)->FindClass(env, class_name);
  if (cls != NULL) {
    (*env)->ThrowNew(env, cls, message);
  }
}

static void throw_argument(JNIEnv *env, const char *function, const char *param, const char *what,
                           long long value) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s %s (was %lld)", function, param, what, value);
  throw_new(env, "java/lang/IllegalArgumentException", message);
}

/* Status returned alongside a pending exception; the Java side never reads it. */
#define THROWN (-1)

/* A call before `loaded` (the library's dlopen handle) was set throws IllegalStateException. */
#define REQUIRE_LOADED_LIBRARY(loaded, library, function)                                          \
  do {                                                                                            \
    if ((loaded) == NULL) {                                                                       \
      throw_new(env, "java/lang/IllegalStateException", function ": " library " is not loaded"); \
      return THROWN;                                                                              \
    }                                                                                             \
  } while (0)

#define REQUIRE(cond, function, param, what, value)                                               \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      throw_argument(env, function, param, what, (long long)(value));                             \
      return THROWN;                                                                              \
    }                                                                                             \
  } while (0)

/* An output array of at least `min` elements; else throws (length shown, -1 for null) and returns 0. */
static int check_out_length(JNIEnv *env, const char *function, const char *param, jarray out, int min) {
  if (out == NULL || (*env)->GetArrayLength(env, out) < min) {
    char what[64];
    snprintf(what, sizeof what, "must be an array of at least %d element%s", min, min == 1 ? "" : "s");
    throw_argument(env, function, param, what, out == NULL ? -1 : (long long)(*env)->GetArrayLength(env, out));
    return 0;
  }
  return 1;
}

/* dlsym that records the first missing symbol (dlerror's text) in `missing`. */
static void *resolve(void *handle, const char *symbol, char *missing, size_t missing_size) {
  dlerror();
  void *fn = dlsym(handle, symbol);
  if (fn == NULL && missing[0] == '\0') {
    const char *why = dlerror();
    snprintf(missing, missing_size, "%s", why != NULL ? why : symbol);
  }
  return fn;
}

/*
 * The library file a loadLibrary entry point was given, as UTF-8 (release it with
 * ReleaseStringUTFChars); NULL with an exception pending when it is null or cannot be read.
 */
static const char *library_path(JNIEnv *env, jstring library) {
  if (library == NULL) {
    throw_new(env, "java/lang/IllegalArgumentException", "loadLibrary: library must not be null");
    return NULL;
  }
  return (*env)->GetStringUTFChars(env, library, NULL);
}

/* dlopens `path` (RTLD_NOW | RTLD_LOCAL); on failure NULL, with "<path> not found by dlopen: why" in `result`. */
static void *open_library(const char *path, char *result, size_t result_size) {
  dlerror();
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    const char *why = dlerror();
    snprintf(result, result_size, "%s not found by dlopen: %s", path, why != NULL ? why : "?");
  }
  return handle;
}

#endif
