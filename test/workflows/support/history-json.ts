// History <-> the JSON Temporal's tools export (proto3 JSON, as `temporal workflow show -o json` writes).
//
// Why not @temporalio/common's historyToJSON/historyFromJSON (which Worker.runReplayHistories calls on a parsed
// file): in this install npm gave @temporalio/common and @temporalio/proto separate copies of protobufjs 8, and
// protojson's `instanceof Type` check fails across copies ("type must be a Type"). Taking protojson from the copy
// @temporalio/proto itself loads makes the check pass, and stays right if npm ever dedupes them.
import { createRequire } from 'node:module';
import proto from '@temporalio/proto';

type History = proto.temporal.api.history.v1.History;
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}
interface Root {
  lookupType(name: string): unknown;
}

const requireFromProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
const protoJson = requireFromProto('protobufjs/ext/protojson') as ProtoJson;
const rootPatch = requireFromProto('@temporalio/proto/lib/patch-protobuf-root') as {
  patchProtobufRoot: (root: unknown) => Root;
};
const historyType = rootPatch.patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');

export function historyToJson(history: proto.temporal.api.history.v1.IHistory): string {
  const message = proto.temporal.api.history.v1.History.fromObject(history);
  return JSON.stringify(protoJson.toJson(historyType, message), null, 2);
}

/** Unknown fields (from a newer server) are ignored, as the SDK's own loader does. */
export function historyFromJson(json: string): History {
  const history = protoJson.fromJson(historyType, JSON.parse(json), { ignoreUnknownFields: true });
  if (history === null) throw new TypeError('not a Temporal history');
  return history as History;
}
