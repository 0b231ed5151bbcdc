import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { gcpSettings } from "../../cells/plan/clouds/gcp";
import { CellContext } from "../types";
import { gcpNames } from "./names";

/** The cell's key for application-layer secrets encryption of its clusters. */
export interface GcpCellKms {
  keyId: pulumi.Output<string>;
  /** The GKE service agent's Encrypter/Decrypter grant on the key: every cluster of the cell waits for it. */
  grant: gcp.kms.CryptoKeyIAMMember;
}

/**
 * A key ring in the cell's region (GKE wants the key in the cluster's location)
 * and one key, both protected: losing the key makes every secret in the cell's
 * etcd unreadable. Key rings cannot be deleted, so the ring's name is unique per
 * stack, region and cell. The GKE service agent
 * (service-<project number>@container-engine-robot.iam.gserviceaccount.com) gets
 * Encrypter/Decrypter on this key only, before any cluster is created.
 */
export function buildGcpCellKms(ctx: CellContext, parent: pulumi.Resource): GcpCellKms {
  const { cell, region, stack } = ctx;
  const { project } = gcpSettings(region);
  const o = { parent, protect: region.protect };
  const ring = new gcp.kms.KeyRing(`${cell.id}-kms-ring`, { project, location: region.region, name: gcpNames.keyRing(stack, region.region, cell.id) }, o);
  const key = new gcp.kms.CryptoKey(
    `${cell.id}-kms-key`,
    { keyRing: ring.id, name: gcpNames.cryptoKey(), purpose: "ENCRYPT_DECRYPT", rotationPeriod: "7776000s", labels: ctx.tags },
    o,
  );
  const projectInfo = gcp.organizations.getProjectOutput({ projectId: project }, { parent });
  const grant = new gcp.kms.CryptoKeyIAMMember(
    `${cell.id}-kms-gke-agent`,
    {
      cryptoKeyId: key.id,
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: pulumi.interpolate`serviceAccount:service-${projectInfo.number}@container-engine-robot.iam.gserviceaccount.com`,
    },
    { parent },
  );
  return { keyId: key.id, grant };
}
