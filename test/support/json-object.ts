/** A parsed JSON object whose fields the replay server reads loosely, as the recorded fixtures do. */
export type Json = Record<string, unknown>;
