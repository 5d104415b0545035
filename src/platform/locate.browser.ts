// The browser bundles' stand-in for locate.ts: there is no installed package to look in; the
// files are fetched beside the script (or from where init(source) says).

export async function otherLocations(_file: string): Promise<URL[]> {
  return [];
}

export async function fileExists(_url: URL): Promise<boolean> {
  return false;
}
