import * as pulumi from "@pulumi/pulumi";

/*
 * Why this exists: every azure-native resource class adds an alias for each API
 * version the SDK has ever shipped for its type (an AgentPool carries 110,
 * `azure-native:containerservice/v20190201:AgentPool` ... `/v20260502preview:AgentPool`;
 * a ManagedCluster 113, a Subnet or VirtualNetwork 60). They let a stack that was
 * written against an explicit versioned sub-module of the package
 * move to the default module without a replace (the explicit `<module>/v<date>`
 * sub-modules of the package).
 *
 * The SDK turns each alias into an Output in the Resource constructor and awaits it at
 * registration, for every resource on every `pulumi preview`/`up`: with ~14,500
 * resources that is over a million Outputs, the measured cause of the superlinear
 * time and memory of large regions (issue 16: 10 cells 2.6x slower and 4x the memory).
 *
 * A stack created by cellplane can never need them: the program has only ever used
 * the default (unversioned) modules of azure-native 3.x (package.json since the first
 * commit; `test/fixtures/*.urns.txt` holds no versioned type, and a test keeps the
 * program free of versioned imports), so no resource in its state has a versioned type.
 *
 * What is dropped, precisely: an alias that is a plain object whose only key is `type`,
 * and whose type is a versioned spelling (`<module>/v<yyyymmdd>[preview]`) of the
 * resource's own kind in the same package, in its module or a module the type moved
 * from (`monitor/v20210501preview:DiagnosticSetting`, `insights/v20210501preview:...`).
 * Everything else stays: aliases the program adds for renames or moves (a name, a
 * parent, a URN), and the SDK's unversioned module-rename aliases
 * (`azure-native:network:RecordSet` for a `dns:RecordSet`), one per type and cheap.
 *
 * Why a stack transformation and not `registerResourceTransform`: this one runs inside
 * the Resource constructor, before the SDK collapses aliases into Outputs, so the cost
 * is never paid. The newer transforms run in the engine after the SDK has already
 * processed the aliases (and add a round trip per resource). It runs the same way under
 * `pulumi up` and under the offline runner's mocks: it is registered by the program.
 */

/** `azure-native:containerservice/v20240901:AgentPool` -> module and kind of a versioned token. */
const VERSIONED = /^([^:]+):([^:/]+)\/v\d{8}[a-z0-9]*:([^:]+)$/;

/** True for an SDK alias that only names a versioned spelling of the kind of `type`, in the same package. */
export function isVersionedTypeAlias(alias: unknown, type: string): boolean {
  if (!alias || typeof alias !== "object" || pulumi.Output.isInstance(alias)) return false;
  const keys = Object.keys(alias);
  if (keys.length !== 1 || keys[0] !== "type") return false;
  const aliasType = (alias as { type: unknown }).type;
  if (typeof aliasType !== "string") return false;
  const m = VERSIONED.exec(aliasType);
  if (m === null) return false;
  const [pkg, , kind] = type.split(":");
  return m[1] === pkg && m[3] === kind;
}

/** Stack transformation: drops the SDK's versioned-type aliases (see above); anything else passes untouched. */
export const withoutSdkVersionAliases: pulumi.ResourceTransformation = ({ type, props, opts }) => {
  // Cloud-neutral by construction: only date-versioned spellings (`/v<yyyymmdd>`) match, which
  // today only the azure-native SDK generates (Kubernetes' `extensions/v1beta1` aliases do not match).
  if (!opts.aliases || opts.aliases.length === 0) return undefined;
  const kept = opts.aliases.filter((a) => !isVersionedTypeAlias(a, type));
  if (kept.length === opts.aliases.length) return undefined;
  return { props, opts: { ...opts, aliases: kept } };
};

/** Registers the transformation for every resource the program creates after this call. */
export function registerAliasTransformation(): void {
  pulumi.runtime.registerStackTransformation(withoutSdkVersionAliases);
}
