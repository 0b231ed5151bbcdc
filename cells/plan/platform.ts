import { INGRESS } from "./isolation";
import { Role } from "./model";

/*
 * The platform layer as plain data: which add-on runs on which cluster, in which
 * namespace under which service account, and the names it publishes in DNS. The
 * components in components/platform build from this; tests and the plan read it.
 */

export type Addon = "certManager" | "externalDns" | "istio";

/** A Kubernetes service account that an add-on runs as. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/** The namespaces the platform owns; each gets a default-deny policy. */
export const PLATFORM_NAMESPACES = {
  certManager: "cert-manager",
  externalDns: "external-dns",
  istioSystem: "istio-system",
  istioIngress: "istio-ingress",
} as const;

export type PlatformNamespace = (typeof PLATFORM_NAMESPACES)[keyof typeof PLATFORM_NAMESPACES];

/** Service accounts that write DNS records: they get the cloud's workload identity. */
export const DNS_WRITERS: Record<"certManager" | "externalDns", ServiceAccountRef> = {
  certManager: { namespace: PLATFORM_NAMESPACES.certManager, name: "cert-manager" },
  externalDns: { namespace: PLATFORM_NAMESPACES.externalDns, name: "external-dns" },
};

/**
 * Add-ons per role. cert-manager runs everywhere (in-cluster TLS); external-dns and
 * the Istio ingress gateway only where traffic enters the cell: `proxy` (customers)
 * and `data-plane-mgmt` (the data-plane API). `data-plane` takes no ingress.
 */
export const ADDONS: Record<Role, readonly Addon[]> = {
  proxy: ["certManager", "externalDns", "istio"],
  "data-plane-mgmt": ["certManager", "externalDns", "istio"],
  "data-plane": ["certManager"],
};

export function hasAddon(role: Role, addon: Addon): boolean {
  return ADDONS[role].includes(addon);
}

/** The service accounts of a role's cluster that need DNS write access. */
export function dnsWritersFor(role: Role): ServiceAccountRef[] {
  return (["certManager", "externalDns"] as const).filter((a) => hasAddon(role, a)).map((a) => DNS_WRITERS[a]);
}

/** The subdomain of a cell: clients are routed to their cell through `<cell>.<zone>`. */
export function cellDomain(cellId: string, zone: string): string {
  return `${cellId}.${zone}`;
}

/**
 * Hostnames the ingress gateway of a role publishes (via external-dns) in the cell's
 * zone `domain` (= `<cell>.<zone>`), and the gateway certificate covers. Customer
 * services live under `*.<cell>.<zone>`; the data-plane API answers on `api.<cell>.<zone>`.
 */
export function ingressHostnames(role: Role, domain: string): string[] {
  switch (role) {
    case "proxy":
      return [`*.${domain}`];
    case "data-plane-mgmt":
      return [`api.${domain}`];
    case "data-plane":
      return [];
  }
}

/**
 * Names on a role's gateway certificate. Each cluster's cert-manager solves its own
 * DNS-01 challenge: the proxies' wildcard and apex validate at `_acme-challenge.<cell>`,
 * the data-plane API at `_acme-challenge.api.<cell>`, so the two clusters never write
 * the same challenge record (they raced when both asked for the wildcard).
 */
export function certificateDnsNames(role: Role, domain: string): string[] {
  switch (role) {
    case "proxy":
      return [`*.${domain}`, domain];
    case "data-plane-mgmt":
      return [`api.${domain}`];
    case "data-plane":
      return [];
  }
}

/**
 * external-dns owner id: unique per (stack, cell, cluster), so two clusters never
 * overwrite or delete each other's records in the shared region zone.
 */
export function txtOwnerId(stack: string, cellId: string, role: Role): string {
  return `cellplane-${stack}-${cellId}-${role}`;
}

/** The ports the role's gateway Service exposes: exactly the INGRESS entries of the isolation matrix. */
export function gatewayPorts(role: Role): number[] {
  return [...new Set(INGRESS.filter((i) => i.role === role).flatMap((i) => i.ports))].sort((a, b) => a - b);
}
