import { CloudMocks, MockInputs, noMock } from "../mocking";

/*
 * GCP's strict mocks: resource ids and self-links for the gcp types the build face
 * registers. No invoke is mocked yet: the build face makes none.
 */

function gcpId(type: string, i: MockInputs, name: string): string {
  const collection = (type.split(":")[2] ?? "resource").replace(/^./, (c) => c.toLowerCase()) + "s";
  const where = i.region ? `regions/${i.region}` : i.location ? `locations/${i.location}` : "global";
  return `projects/${i.project ?? "mock-project"}/${where}/${collection}/${i.name ?? name}`;
}

export const gcpMocks: CloudMocks = {
  packages: ["gcp"],
  newResource(type, name, inputs) {
    const id = gcpId(type, inputs, name);
    return { id, state: { ...inputs, selfLink: `https://www.googleapis.com/compute/v1/${id}` } };
  },
  invoke(token) {
    throw noMock("invoke", token, "providers/gcp/mocks.ts");
  },
};
