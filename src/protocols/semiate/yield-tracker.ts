import { LIMITS } from './limits';
import type { PartResult, SiteYield, YieldSnapshot } from './types';

function siteYield(site: string, tested: number, passed: number): SiteYield {
  return { site, tested, passed, failed: tested - passed, yield: tested === 0 ? 0 : (passed / tested) * 100 };
}

interface Count {
  tested: number;
  passed: number;
}

/**
 * Running yield per site and over all sites, kept incrementally so a long lot stays cheap.
 * Like the master, a retest of a part id replaces its earlier result instead of counting twice.
 * Bounded whatever the tester sends: the most recent maxTrackedParts part ids are remembered for
 * the retest rule, and at most maxSites sites are counted one by one (parts of further sites
 * count in the total only).
 */
export class YieldTracker {
  private readonly byPart = new Map<string, { site: string; pass: boolean }>();
  private readonly perSite = new Map<string, Count>();
  private readonly total: Count = { tested: 0, passed: 0 };

  add(part: PartResult): void {
    if (part.partId !== '') {
      const earlier = this.byPart.get(part.partId);
      if (earlier) {
        this.count(earlier.site, earlier.pass, -1);
        this.byPart.delete(part.partId);
      } else if (this.byPart.size >= LIMITS.maxTrackedParts) {
        // Maps keep insertion order: the first key is the part tested longest ago.
        this.byPart.delete(this.byPart.keys().next().value!);
      }
      this.byPart.set(part.partId, { site: part.site, pass: part.pass });
    }
    this.count(part.site, part.pass, 1);
  }

  reset(): void {
    this.byPart.clear();
    this.perSite.clear();
    this.total.tested = 0;
    this.total.passed = 0;
  }

  /** One site's figures (cheap: for a msg per part). */
  site(site: string): SiteYield {
    const count = this.perSite.get(site);
    return siteYield(site, count?.tested ?? 0, count?.passed ?? 0);
  }

  /** All sites together. */
  overall(): SiteYield {
    return siteYield('all', this.total.tested, this.total.passed);
  }

  snapshot(): YieldSnapshot {
    const sites: Record<string, SiteYield> = {};
    const ids = [...this.perSite.keys()].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
    for (const site of ids) {
      const count = this.perSite.get(site)!;
      sites[site] = siteYield(site, count.tested, count.passed);
    }
    return { sites, total: this.overall() };
  }

  private count(site: string, pass: boolean, delta: 1 | -1): void {
    let count = this.perSite.get(site);
    if (!count && this.perSite.size < LIMITS.maxSites) {
      count = { tested: 0, passed: 0 };
      this.perSite.set(site, count);
    }
    this.total.tested += delta;
    if (pass) this.total.passed += delta;
    if (!count) return;
    count.tested += delta;
    if (pass) count.passed += delta;
  }
}
