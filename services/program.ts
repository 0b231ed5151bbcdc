import * as pulumi from "@pulumi/pulumi";
import { formatProblems, CellIpPlan } from "../cells/plan/model";
import { resourceTags } from "../cells/plan/naming";
import { serviceK8sNames } from "../cells/plan/services";
import { loadProvider } from "../providers";
import { validateServiceConfig } from "./config";
import { Service } from "./service";

/*
 * The service program: one small stack per tenant service, `<region stack>-svc-<id>`.
 * It reads its placement from its own config (service:*) and what it needs of its
 * cell from the region stack through a StackReference: the data-plane cluster's
 * OIDC issuer, id and kubeconfig, the cell's subnet ids and IP plan. The control
 * plane runs it as an Automation API inline program; `pulumi up` on a service stack
 * runs it too (index.ts dispatches on the stack name).
 */

interface RegionCellOutputs {
  clusters?: Record<string, { id?: string; oidcIssuerUrl?: string }>;
  kubeconfigs?: Record<string, string>;
  subnetIds?: Record<string, string>;
  ipPlan?: CellIpPlan;
  serviceInputs?: Record<string, string>;
}

export async function serviceProgram(): Promise<Record<string, unknown>> {
  const validated = validateServiceConfig(pulumi.runtime.allConfig());
  if (!validated.ok) throw new pulumi.RunError(`invalid service config in stack ${pulumi.getStack()}:\n${formatProblems(validated.problems)}`);
  const cfg = validated.value;
  const provider = await loadProvider(cfg.cloud);
  if (!provider.buildService) {
    throw new pulumi.RunError(`service ${cfg.id}: tenant services on ${cfg.cloud} are not built yet (their cells come first); nothing was registered`);
  }

  const region = new pulumi.StackReference("region", { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${cfg.regionStack}` });
  const details = await region.getOutputDetails("cells");
  const cells = (details.value ?? details.secretValue) as Record<string, RegionCellOutputs> | undefined;
  const cell = cells?.[cfg.cell];
  const dp = cell?.clusters?.["data-plane"];
  const kubeconfig = cell?.kubeconfigs?.["data-plane"];
  if (!cell || !dp?.oidcIssuerUrl || !dp.id || !kubeconfig || !cell.ipPlan || !cell.subnetIds) {
    throw new pulumi.RunError(
      `service ${cfg.id}: region stack ${cfg.regionStack} has no deployed data-plane cluster in cell ${cfg.cell} (outputs cells.${cfg.cell}.clusters.data-plane, kubeconfigs, subnetIds, ipPlan)\n  fix: deploy the cell first (pulumi up on ${cfg.regionStack}), or place the service in a deployed cell`,
    );
  }
  const dataPlaneSubnetIds = Object.entries(cell.subnetIds)
    .filter(([key]) => key.startsWith("data-plane/"))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, id]) => id);

  const namespace = serviceK8sNames.namespace(cfg.id);
  const service = new Service(cfg.id, {
    ctx: {
      regionStack: cfg.regionStack,
      stack: pulumi.getStack(),
      id: cfg.id,
      cell: cfg.cell,
      location: cfg.location,
      poolMember: cfg.poolMember,
      protect: cfg.protect,
      tags: { ...resourceTags(cfg.tags, cfg.location, cfg.regionStack, cfg.cell), service: cfg.id },
      oidcIssuerUrl: dp.oidcIssuerUrl,
      dataPlaneSubnetIds,
      namespace,
      serviceAccount: serviceK8sNames.serviceAccount(),
      cellInputs: cell.serviceInputs ?? {},
    },
    size: cfg.size,
    provider,
    kubeconfig: pulumi.secret(kubeconfig),
    clusterId: dp.id,
    ipPlan: cell.ipPlan,
  });
  return {
    service: cfg.id,
    cell: cfg.cell,
    size: cfg.size,
    namespace,
    serviceAccount: serviceK8sNames.serviceAccount(),
    storage: service.cloud.storage,
    location: service.cloud.location,
  };
}
