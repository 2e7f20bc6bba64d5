// Bench events with the spread real click traffic has: a few hundred user agents and tens of
// thousands of client addresses, both drawn with a heavy head and a long tail (Zipf), so caches
// see what they would see in production, not one repeated value.

/** Deterministic PRNG (mulberry32): every run draws the same events. */
export function random(seed = 42) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index in [0, n) with P(i) ∝ 1/(i+1)^s, by inverting a precomputed CDF. */
export function zipf(n, s, rand) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  return () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function userAgents() {
  const uas = [];
  for (let v = 100; v <= 131; v++) {
    uas.push(
      `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`,
    );
    uas.push(
      `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`,
    );
    uas.push(
      `Mozilla/5.0 (Linux; Android 1${v % 5}; SM-S91${v % 8}B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Mobile Safari/537.36`,
    );
    uas.push(
      `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36 Edg/${v}.0.0.0`,
    );
    uas.push(`Mozilla/5.0 (X11; Linux x86_64; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`);
  }
  for (let major = 15; major <= 18; major++)
    for (let minor = 0; minor <= 6; minor++) {
      uas.push(
        `Mozilla/5.0 (iPhone; CPU iPhone OS ${major}_${minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${major}.${minor} Mobile/15E148 Safari/604.1`,
      );
      uas.push(
        `Mozilla/5.0 (iPad; CPU OS ${major}_${minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${major}.${minor} Mobile/15E148 Safari/604.1`,
      );
      uas.push(
        `Mozilla/5.0 (iPhone; CPU iPhone OS ${major}_${minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 3${major}${minor}.0.0.0 (iPhone14,5; iOS ${major}_${minor}; en_US)`,
      );
    }
  uas.push(
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "WhatsApp/2.23.20.0 A",
    "curl/8.5.0",
  );
  return uas;
}

const REFERRERS = [
  "https://t.co/x",
  "https://www.google.com/",
  "https://www.facebook.com/",
  "https://l.instagram.com/",
  "https://www.linkedin.com/",
  "https://news.ycombinator.com/",
  "https://mail.google.com/",
  "https://www.bing.com/",
  "https://duckduckgo.com/",
  "https://www.reddit.com/",
  "",
  "https://example.com/blog/post",
];

/** `next()` → the JSON body of the next event, about `size` bytes, with an IP, a UA and a referrer. */
export function clickBodies({ size = 1024, seed = 42, addresses = 50_000 } = {}) {
  const rand = random(seed);
  const uas = userAgents();
  const pickUa = zipf(uas.length, 1.1, rand);
  const pickIp = zipf(addresses, 1.05, rand);
  const pickLink = zipf(5_000, 1.0, rand);
  return () => {
    const ip = pickIp();
    const link = pickLink();
    const body = {
      event: "link.clicked",
      timestamp: new Date().toISOString(),
      data: {
        link_id: `lnk_${link}`,
        campaign: `c${link % 50}`,
        ip:
          ip % 10 === 9
            ? `2a00:1450:${(ip >> 8).toString(16)}::${(ip & 255).toString(16)}`
            : `${1 + (ip % 223)}.${(ip >> 8) & 255}.${ip & 255}.${(ip * 7) & 255}`,
        user_agent: uas[pickUa()],
        referrer: REFERRERS[Math.floor(rand() * REFERRERS.length)],
        filler: "",
      },
    };
    body.data.filler = "x".repeat(Math.max(0, size - JSON.stringify(body).length));
    return JSON.stringify(body);
  };
}
