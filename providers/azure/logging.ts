import * as pulumi from "@pulumi/pulumi";
import * as monitor from "@pulumi/azure-native/monitor";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import { azureSettings } from "../../cells/plan/clouds/azure";
import { CellContext } from "../types";
import { azureNames } from "./names";

/**
 * AKS control-plane log categories kept for audit: `kube-audit-admin` (every write to
 * the API server, without the flood of reads) and `guard` (Entra ID authentication).
 */
export const AUDIT_LOG_CATEGORIES = ["kube-audit-admin", "guard"] as const;

/**
 * The cell's Log Analytics workspace. One per cell, like everything else: a cell's
 * audit trail lives and dies with the cell, and is protected like its clusters.
 */
export function buildCellLogWorkspace(ctx: CellContext, resourceGroupName: pulumi.Input<string>, parent: pulumi.Resource): operationalinsights.Workspace {
  const { cell, region } = ctx;
  return new operationalinsights.Workspace(
    `${cell.id}-logs`,
    {
      resourceGroupName,
      location: region.region,
      workspaceName: azureNames.logWorkspace(region.region, cell.id),
      sku: { name: "PerGB2018" },
      retentionInDays: azureSettings(region).auditLogRetentionDays,
      tags: ctx.tags,
    },
    { parent, protect: region.protect },
  );
}

/** Sends a cluster's control-plane audit logs to the cell's workspace. */
export function auditLogs(name: string, clusterId: pulumi.Input<string>, workspaceId: pulumi.Input<string>, parent: pulumi.Resource): monitor.DiagnosticSetting {
  return new monitor.DiagnosticSetting(
    `${name}-audit-logs`,
    {
      name: "cellplane-audit",
      resourceUri: clusterId,
      workspaceId,
      logAnalyticsDestinationType: "Dedicated",
      logs: AUDIT_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
    },
    { parent },
  );
}
