import type Docker from 'dockerode';

/** Engine-defined network modes, used as they are. */
const BUILTIN = new Set(['none', 'host', 'default', 'bridge']);

/**
 * Makes sure the named build network exists: a bridge of its own with inter-container traffic off, so setup.sh
 * reaches the internet (package mirrors) but no other container on the node. Built-in modes are left alone.
 */
export async function ensureBuildNetwork(docker: Docker, name: string): Promise<void> {
  if (BUILTIN.has(name)) return;
  try {
    await docker.getNetwork(name).inspect();
    return;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
  try {
    await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Options: { 'com.docker.network.bridge.enable_icc': 'false' },
      Labels: { 'greengrader.purpose': 'image-build' },
    });
  } catch (error) {
    // Another build on this node created it first.
    if ((error as { statusCode?: number }).statusCode !== 409) throw error;
  }
}
