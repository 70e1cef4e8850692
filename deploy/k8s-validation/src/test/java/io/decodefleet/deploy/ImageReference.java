package io.decodefleet.deploy;

/**
 * A container image reference: {@code [registry[:port]/]path[:tag][@digest]}. The tag is what follows
 * the last ':' after the last '/', so a registry port is never taken for a tag.
 */
record ImageReference(String name, String tag, String digest) {

  static ImageReference parse(String reference) {
    String rest = reference;
    String digest = null;
    int at = rest.indexOf('@');
    if (at >= 0) {
      digest = rest.substring(at + 1);
      rest = rest.substring(0, at);
    }
    String tag = null;
    int colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      tag = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
    }
    return new ImageReference(rest, tag, digest);
  }

  /** Pinned: a tag other than "latest", or a digest. */
  boolean pinned() {
    return digest != null || (tag != null && !tag.isEmpty() && !tag.equals("latest"));
  }

  @Override
  public String toString() {
    return name + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
  }
}
