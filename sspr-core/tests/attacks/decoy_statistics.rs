//! Issue 11 item 7: decoy masks were drawn with uniform initials over 62 characters (16%
//! digits) and a uniform domain initial, while real alternate addresses start like given names
//! (j, m, a, s... and rarely a digit) at a handful of providers (gmail, hotmail...). Counting
//! initials over many answers told decoys from real accounts.

use sspr_core::{NormalizedLogin, Policy, SecretKey, decoy};

/// Real-looking alternate mailboxes: common given names at common providers (the shape of
/// what users register; no real person's address).
const NAMES: &[&str] = &[
    "james",
    "john",
    "robert",
    "michael",
    "william",
    "david",
    "richard",
    "joseph",
    "thomas",
    "charles",
    "christopher",
    "daniel",
    "matthew",
    "anthony",
    "mark",
    "donald",
    "steven",
    "paul",
    "andrew",
    "joshua",
    "kenneth",
    "kevin",
    "brian",
    "george",
    "timothy",
    "ronald",
    "edward",
    "jason",
    "jeffrey",
    "ryan",
    "jacob",
    "gary",
    "nicholas",
    "eric",
    "jonathan",
    "stephen",
    "larry",
    "justin",
    "scott",
    "brandon",
    "benjamin",
    "samuel",
    "gregory",
    "alexander",
    "frank",
    "patrick",
    "raymond",
    "jack",
    "dennis",
    "jerry",
    "mary",
    "patricia",
    "jennifer",
    "linda",
    "elizabeth",
    "barbara",
    "susan",
    "jessica",
    "sarah",
    "karen",
    "lisa",
    "nancy",
    "betty",
    "margaret",
    "sandra",
    "ashley",
    "kimberly",
    "emily",
    "donna",
    "michelle",
    "carol",
    "amanda",
    "dorothy",
    "melissa",
    "deborah",
    "stephanie",
    "rebecca",
    "sharon",
    "laura",
    "cynthia",
    "kathleen",
    "amy",
    "angela",
    "shirley",
    "anna",
    "brenda",
    "pamela",
    "emma",
    "nicole",
    "helen",
    "samantha",
    "katherine",
    "christine",
    "debra",
    "rachel",
    "carolyn",
    "janet",
    "catherine",
    "maria",
    "heather",
    "lukas",
    "leon",
    "finn",
    "jonas",
    "paul.m",
    "felix",
    "elias",
    "noah",
    "maximilian",
    "julian",
    "sophie",
    "marie",
    "mia",
    "lena",
    "hannah",
    "lea",
    "julia",
    "laura.k",
    "anna-lena",
    "johanna",
    "jean",
    "pierre",
    "michel",
    "alain",
    "philippe",
    "nathalie",
    "isabelle",
    "sylvie",
    "catherine.b",
    "francoise",
    "jose",
    "antonio",
    "manuel",
    "francisco",
    "juan",
    "carmen",
    "josefa",
    "isabel",
    "dolores",
    "pilar",
    "giuseppe",
    "marco",
    "luca",
    "giovanni",
    "francesca",
    "chiara",
    "sara",
    "valentina",
    "alessandro",
    "andrea",
    "m.schmidt",
    "j.mueller",
    "s.weber",
    "t.wagner",
    "k.becker",
    "a.hoffmann",
    "c.koch",
    "d.richter",
    "r.klein",
    "p.wolf",
    "1975maria",
    "2000john",
    "olivia",
    "oliver",
    "harry",
    "george.w",
    "isla",
    "ava",
    "amelia",
    "jacob.t",
];

/// The providers those users are at, repeated by how common they are.
const DOMAINS: &[&str] = &[
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "yahoo.com",
    "yahoo.com",
    "hotmail.com",
    "hotmail.com",
    "outlook.com",
    "outlook.com",
    "icloud.com",
    "gmx.de",
    "web.de",
    "aol.com",
    "proton.me",
    "live.com",
];

/// The masks of `n` unknown logins under the default policy (SMS off: e-mail only).
fn decoy_masks(n: usize) -> Vec<String> {
    let key = SecretKey::from_bytes(&[0x42; 32]).unwrap();
    let policy = Policy::default();
    (0..n)
        .map(|i| {
            let login = NormalizedLogin::parse(&format!("probe{i}@example.org")).unwrap();
            let methods = decoy::methods(&key, &login, &policy);
            assert_eq!(methods.len(), 1);
            methods.into_iter().next().unwrap().1
        })
        .collect()
}

/// The first character of the local part and of the domain of a mask `a***@g***.com` or an
/// address `alice@gmail.com`.
fn initials(text: &str) -> (char, char) {
    let (local, domain) = text.split_once('@').unwrap();
    (local.chars().next().unwrap(), domain.chars().next().unwrap())
}

fn real_addresses() -> Vec<String> {
    NAMES.iter().enumerate().map(|(i, name)| format!("{name}@{}", DOMAINS[i % DOMAINS.len()])).collect()
}

/// Pearson's chi-square of a 2 x k contingency table (two samples over the same buckets).
fn two_sample_chi_square(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
    a.iter()
        .zip(b)
        .filter(|(x, y)| **x + **y > 0.0)
        .map(|(x, y)| {
            let column = x + y;
            let (ea, eb) = (column * na / (na + nb), column * nb / (na + nb));
            (x - ea).powi(2) / ea + (y - eb).powi(2) / eb
        })
        .sum()
}

/// How many of `chars` fall in each bucket (a bucket is a string of characters).
fn histogram(chars: impl Iterator<Item = char>, buckets: &[&str]) -> Vec<f64> {
    let mut counts = vec![0.0; buckets.len()];
    for c in chars {
        let i = buckets.iter().position(|b| b.contains(c)).expect("every character has a bucket");
        counts[i] += 1.0;
    }
    counts
}

#[test]
fn decoy_masks_start_with_a_digit_far_more_often_than_real_addresses() {
    let masks = decoy_masks(5000);
    let digits = masks.iter().filter(|m| initials(m).0.is_ascii_digit()).count();
    let share = digits as f64 / masks.len() as f64;
    eprintln!("digit initials: {:.2}% of {} decoy masks", share * 100.0, masks.len());
    // Real mailboxes start with a digit about 1% of the time (2 in 170 above).
    assert!(share < 0.03, "{:.1}% of decoy masks start with a digit", share * 100.0);
}

#[test]
fn decoy_initials_fail_a_chi_square_test_against_real_addresses() {
    let masks = decoy_masks(5000);
    let real = real_addresses();
    // Buckets with enough real addresses in each (df = buckets - 1).
    let local_buckets = ["ab", "c", "d", "efghi", "j", "kl", "m", "nopqr", "s", "tuvwxyz0123456789"];
    let decoy_local = histogram(masks.iter().map(|m| initials(m).0), &local_buckets);
    let real_local = histogram(real.iter().map(|m| initials(m).0), &local_buckets);
    let chi_local = two_sample_chi_square(&decoy_local, &real_local);
    eprintln!("local initials: chi-square {chi_local:.1} (df 9, 99.9% quantile 27.88)");
    // The 99.9% quantile of chi-square with 9 degrees of freedom: a real sample exceeds it
    // once in a thousand.
    assert!(
        chi_local < 27.88,
        "local-part initials stand out: chi-square {chi_local:.1} (df 9)\n{decoy_local:?}\n{real_local:?}"
    );

    let domain_buckets = ["g", "hlmo", "y", "abcdefijknpqrstuvwxz0123456789"];
    let decoy_domain = histogram(masks.iter().map(|m| initials(m).1), &domain_buckets);
    let real_domain = histogram(real.iter().map(|m| initials(m).1), &domain_buckets);
    let chi_domain = two_sample_chi_square(&decoy_domain, &real_domain);
    eprintln!("domain initials: chi-square {chi_domain:.1} (df 3, 99.9% quantile 16.27)");
    // The 99.9% quantile with 3 degrees of freedom.
    assert!(
        chi_domain < 16.27,
        "domain initials stand out: chi-square {chi_domain:.1} (df 3)\n{decoy_domain:?}\n{real_domain:?}"
    );
}
