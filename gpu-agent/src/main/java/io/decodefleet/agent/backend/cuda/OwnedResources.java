package io.decodefleet.agent.backend.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * What the CUDA backend made and must free, closed in reverse order of making; the first failure
 * is thrown once everything was tried.
 */
final class OwnedResources implements AutoCloseable {

  private final List<AutoCloseable> owned = new ArrayList<>();

  <T extends AutoCloseable> T own(T resource) {
    owned.add(resource);
    return resource;
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (int i = owned.size() - 1; i >= 0; i--) {
      try {
        owned.get(i).close();
      } catch (Exception e) {
        first = first != null ? first : e instanceof RuntimeException re ? re : new IllegalStateException(e);
      }
    }
    owned.clear();
    if (first != null) throw first;
  }
}
