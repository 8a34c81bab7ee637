//! GOST R 34.10-2012 signatures with 256-bit keys, and the Streebog-256 digest (GOST R 34.11-2012).
//!
//! There is no maintained pure-Rust crate for the signature scheme (RustCrypto has only the
//! `streebog` hash), so the scheme is written here, on `crypto-bigint`'s constant-time
//! Montgomery arithmetic. The curves are short Weierstrass curves `y² = x³ + ax + b` over a
//! 256-bit prime field; points are kept in projective coordinates and added with the complete
//! formulas of Renes, Costello and Batina (2016, algorithm 1, any `a`), so there are no special
//! cases (identity, doubling) and no branches on secret data.
//!
//! Byte orders (the OpenSSL gost-engine / BouncyCastle convention, which ESIA expects):
//! - **digest → number**: the 32 bytes that `streebog` (and `openssl dgst -md_gost12_256`) print
//!   are read as a *little-endian* integer `α`, `e = α mod q` (`e = 1` if that is zero). This
//!   is the standard's convention: it writes vectors most-significant byte first, which is the
//!   reverse of the byte string the hash functions output.
//! - **signature**: 64 bytes `s || r`, each 32-byte half *big-endian*. (The standard prints
//!   the signature as the vector `r || s`; CryptoPro CSP outputs the whole 64 bytes reversed,
//!   i.e. `r` little-endian then `s` little-endian, which ESIA clients reverse before sending.)
//!   [`Signature::from_reversed`] accepts that CryptoPro order too.
//! - **public key**: 64 bytes `X || Y`, each 32-byte half *little-endian* — the content of the
//!   OCTET STRING inside the certificate's `subjectPublicKey` BIT STRING (RFC 4491 §2.3.2).
//! - **private key**: a 32-byte big-endian integer `d` (`openssl pkey -text` prints this).
//!
//! Constant time: signing (`k·G`, the ladder below, the conditional swaps, field and scalar
//! arithmetic in Montgomery form, the field inversion to affine coordinates) runs in time
//! independent of `d` and `k`. Not constant-time, on purpose, because the inputs are public:
//! verification (the inverse of `e` and the two scalar multiplications are still the ladder,
//! but the checks short-circuit), range checks on public keys and signatures, the rejection
//! sampling of `k` (it only tells how many candidates were drawn; each candidate's range check
//! is constant-time), the reduction of `x(C)` to `r`.

use crypto_bigint::ctutils::{CtEq, CtLt, CtSelect};
use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Choice, NonZero, Odd, U256};
use streebog::{Digest, Streebog256};

type Fe = FixedMontyForm<{ U256::LIMBS }>;
type Params = FixedMontyParams<{ U256::LIMBS }>;

/// Streebog-256 (GOST R 34.11-2012, 256-bit output) of `data`, in the byte order `openssl dgst
/// -md_gost12_256` prints.
pub fn streebog256(data: &[u8]) -> [u8; 32] {
    let out = Streebog256::digest(data);
    let mut digest = [0u8; 32];
    digest.copy_from_slice(out.as_slice());
    digest
}

/// Upper-case hexadecimal of `data`.
pub fn hex_upper(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// A named set of curve parameters (the OID in a certificate's algorithm parameters).
#[derive(Debug, Clone, Copy)]
pub struct CurveParams {
    pub name: &'static str,
    /// Every object identifier that names this curve (CryptoPro and TC26 aliases).
    pub oids: &'static [&'static str],
    p: U256,
    a: U256,
    b: U256,
    q: U256,
    x: U256,
    y: U256,
}

const fn h(s: &str) -> U256 {
    U256::from_be_hex(s)
}

const P_CP_A: &str = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97";
const P_CP_B: &str = "8000000000000000000000000000000000000000000000000000000000000C99";
const P_CP_C: &str = "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B";

/// The parameter sets GOST R 34.10-2012 (256) uses: RFC 4357 (CryptoPro), RFC 7836 (TC26) and the
/// test set of the standard's Appendix A.1.
pub static CURVES: &[CurveParams] = &[
    CurveParams {
        name: "id-tc26-gost-3410-2012-256-paramSetA",
        oids: &["1.2.643.7.1.2.1.1.1"],
        p: h(P_CP_A),
        a: h("C2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335"),
        b: h("295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513"),
        q: h("400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67"),
        x: h("91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28"),
        y: h("32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C"),
    },
    CurveParams {
        name: "id-GostR3410-2001-CryptoPro-A-ParamSet",
        // CryptoPro A = XchA = TC26 256 paramSetB.
        oids: &[
            "1.2.643.2.2.35.1",
            "1.2.643.2.2.36.0",
            "1.2.643.7.1.2.1.1.2",
        ],
        p: h(P_CP_A),
        a: h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94"),
        b: h("00000000000000000000000000000000000000000000000000000000000000A6"),
        q: h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893"),
        x: h("0000000000000000000000000000000000000000000000000000000000000001"),
        y: h("8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14"),
    },
    CurveParams {
        name: "id-GostR3410-2001-CryptoPro-B-ParamSet",
        // CryptoPro B = TC26 256 paramSetC.
        oids: &["1.2.643.2.2.35.2", "1.2.643.7.1.2.1.1.3"],
        p: h(P_CP_B),
        a: h("8000000000000000000000000000000000000000000000000000000000000C96"),
        b: h("3E1AF419A269A5F866A7D3C25C3DF80AE979259373FF2B182F49D4CE7E1BBC8B"),
        q: h("800000000000000000000000000000015F700CFFF1A624E5E497161BCC8A198F"),
        x: h("0000000000000000000000000000000000000000000000000000000000000001"),
        y: h("3FA8124359F96680B83D1C3EB2C070E5C545C9858D03ECFB744BF8D717717EFC"),
    },
    CurveParams {
        name: "id-GostR3410-2001-CryptoPro-C-ParamSet",
        // CryptoPro C = XchB = TC26 256 paramSetD.
        oids: &[
            "1.2.643.2.2.35.3",
            "1.2.643.2.2.36.1",
            "1.2.643.7.1.2.1.1.4",
        ],
        p: h(P_CP_C),
        a: h("9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D7598"),
        b: h("000000000000000000000000000000000000000000000000000000000000805A"),
        q: h("9B9F605F5A858107AB1EC85E6B41C8AA582CA3511EDDFB74F02F3A6598980BB9"),
        x: h("0000000000000000000000000000000000000000000000000000000000000000"),
        y: h("41ECE55743711A8C3CBF3783CD08C0EE4D4DC440D4641A8F366E550DFDB3BB67"),
    },
    CurveParams {
        name: "id-GostR3410-2001-TestParamSet",
        oids: &["1.2.643.2.2.35.0"],
        p: h("8000000000000000000000000000000000000000000000000000000000000431"),
        a: h("0000000000000000000000000000000000000000000000000000000000000007"),
        b: h("5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E"),
        q: h("8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3"),
        x: h("0000000000000000000000000000000000000000000000000000000000000002"),
        y: h("08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8"),
    },
];

/// Why a key or signature was refused. Deliberately coarse: callers map every variant to one
/// protocol error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GostError {
    #[error("unknown GOST curve parameter set")]
    UnknownCurve,
    #[error("malformed GOST public key")]
    BadPublicKey,
    #[error("malformed GOST private key")]
    BadPrivateKey,
    #[error("malformed GOST signature")]
    BadSignature,
}

/// A curve ready for arithmetic (Montgomery parameters for the field and the group order).
#[derive(Debug, Clone)]
pub struct Curve {
    pub params: &'static CurveParams,
    fp: Params,
    fq: Params,
    a: Fe,
    b3: Fe,
    q: U256,
    q_nz: NonZero<U256>,
}

impl Curve {
    /// The curve named by `oid` (dotted form), if it is one of [`CURVES`].
    pub fn by_oid(oid: &str) -> Result<Curve, GostError> {
        CURVES
            .iter()
            .find(|c| c.oids.contains(&oid))
            .ok_or(GostError::UnknownCurve)
            .and_then(Curve::new)
    }

    /// The curve of a parameter set by its name (`id-tc26-gost-3410-2012-256-paramSetA`, …).
    pub fn by_name(name: &str) -> Result<Curve, GostError> {
        CURVES
            .iter()
            .find(|c| c.name == name)
            .ok_or(GostError::UnknownCurve)
            .and_then(Curve::new)
    }

    /// A curve of the table; a parameter set whose moduli are not odd (none of the table's)
    /// is refused as unknown rather than trusted.
    fn new(params: &'static CurveParams) -> Result<Curve, GostError> {
        let odd = |v: U256| Option::<Odd<U256>>::from(Odd::new(v)).ok_or(GostError::UnknownCurve);
        let fp = Params::new_vartime(odd(params.p)?);
        let fq = Params::new_vartime(odd(params.q)?);
        let q_nz =
            Option::<NonZero<U256>>::from(NonZero::new(params.q)).ok_or(GostError::UnknownCurve)?;
        let a = Fe::new(&params.a, &fp);
        let b = Fe::new(&params.b, &fp);
        let b3 = b.add(&b).add(&b);
        Ok(Curve {
            params,
            fp,
            fq,
            a,
            b3,
            q: params.q,
            q_nz,
        })
    }

    /// The order `q` of the base point (big-endian bytes).
    pub fn order(&self) -> [u8; 32] {
        be_bytes(&self.q)
    }

    fn fe(&self, v: &U256) -> Fe {
        Fe::new(v, &self.fp)
    }

    fn identity(&self) -> Point {
        Point {
            x: Fe::zero(&self.fp),
            y: Fe::one(&self.fp),
            z: Fe::zero(&self.fp),
        }
    }

    fn generator(&self) -> Point {
        Point {
            x: self.fe(&self.params.x),
            y: self.fe(&self.params.y),
            z: Fe::one(&self.fp),
        }
    }

    /// Complete addition (Renes–Costello–Batina 2016, algorithm 1). Also doubles.
    fn add(&self, p: &Point, r: &Point) -> Point {
        let (x1, y1, z1) = (&p.x, &p.y, &p.z);
        let (x2, y2, z2) = (&r.x, &r.y, &r.z);
        let a = &self.a;
        let b3 = &self.b3;
        let mut t0 = x1.mul(x2);
        let mut t1 = y1.mul(y2);
        let mut t2 = z1.mul(z2);
        let mut t3 = x1.add(y1);
        let mut t4 = x2.add(y2);
        t3 = t3.mul(&t4);
        t4 = t0.add(&t1);
        t3 = t3.sub(&t4);
        t4 = x1.add(z1);
        let mut t5 = x2.add(z2);
        t4 = t4.mul(&t5);
        t5 = t0.add(&t2);
        t4 = t4.sub(&t5);
        t5 = y1.add(z1);
        let mut x3 = y2.add(z2);
        t5 = t5.mul(&x3);
        x3 = t1.add(&t2);
        t5 = t5.sub(&x3);
        let mut z3 = a.mul(&t4);
        x3 = b3.mul(&t2);
        z3 = x3.add(&z3);
        x3 = t1.sub(&z3);
        z3 = t1.add(&z3);
        let mut y3 = x3.mul(&z3);
        t1 = t0.add(&t0);
        t1 = t1.add(&t0);
        t2 = a.mul(&t2);
        t4 = b3.mul(&t4);
        t1 = t1.add(&t2);
        t2 = t0.sub(&t2);
        t2 = a.mul(&t2);
        t4 = t4.add(&t2);
        t0 = t1.mul(&t4);
        y3 = y3.add(&t0);
        t0 = t5.mul(&t4);
        x3 = x3.mul(&t3);
        x3 = x3.sub(&t0);
        t0 = t3.mul(&t1);
        z3 = z3.mul(&t5);
        z3 = z3.add(&t0);
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `k·P` by a Montgomery ladder over all 256 bits of `k`, with constant-time swaps.
    fn mul(&self, point: &Point, k: &U256) -> Point {
        let mut r0 = self.identity();
        let mut r1 = point.clone();
        for i in (0..256).rev() {
            let bit = k.bit(i);
            r0.ct_swap(&mut r1, bit);
            r1 = self.add(&r0, &r1);
            r0 = self.add(&r0, &r0);
            r0.ct_swap(&mut r1, bit);
        }
        r0
    }

    /// Affine `(x, y)` of a point, `None` for the identity. Constant-time inversion.
    fn to_affine(&self, point: &Point) -> Option<(U256, U256)> {
        let zinv = point.z.invert().into_option()?;
        Some((point.x.mul(&zinv).retrieve(), point.y.mul(&zinv).retrieve()))
    }

    fn on_curve(&self, x: &U256, y: &U256) -> bool {
        let (x, y) = (self.fe(x), self.fe(y));
        let lhs = y.square();
        let rhs = x
            .square()
            .mul(&x)
            .add(&self.a.mul(&x))
            .add(&self.fe(&self.params.b));
        bool::from(lhs.ct_eq(&rhs))
    }

    /// `e` from a digest: the digest bytes read little-endian, reduced mod `q`, 0 → 1.
    fn digest_to_e(&self, digest: &[u8; 32]) -> U256 {
        let alpha = U256::from_le_slice(digest);
        let e = alpha.rem_vartime(&self.q_nz);
        if bool::from(e.is_zero()) {
            U256::ONE
        } else {
            e
        }
    }

    /// `0 < v < q`, compared in constant time (used on `d` and on candidates for `k`).
    fn in_scalar_range(&self, v: &U256) -> bool {
        v.is_zero().not().and(v.ct_lt(&self.q)).to_bool()
    }
}

/// A point in projective coordinates `(X : Y : Z)`, `Z = 0` for the identity.
#[derive(Debug, Clone)]
struct Point {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl Point {
    fn ct_swap(&mut self, other: &mut Point, choice: Choice) {
        let (x, y, z) = (
            self.x.ct_select(&other.x, choice),
            self.y.ct_select(&other.y, choice),
            self.z.ct_select(&other.z, choice),
        );
        other.x = other.x.ct_select(&self.x, choice);
        other.y = other.y.ct_select(&self.y, choice);
        other.z = other.z.ct_select(&self.z, choice);
        self.x = x;
        self.y = y;
        self.z = z;
    }
}

fn be_bytes(v: &U256) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(v.to_be_bytes().as_ref());
    out
}

fn le_bytes(v: &U256) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(v.to_le_bytes().as_ref());
    out
}

/// A GOST R 34.10-2012 (256) public key: a point of order `q` on a named curve.
#[derive(Debug, Clone)]
pub struct PublicKey {
    curve: Curve,
    x: U256,
    y: U256,
}

impl PublicKey {
    /// From the 64-byte `X || Y` (each little-endian) of a certificate. Checks that the point
    /// is on the curve and in the subgroup of order `q`.
    pub fn from_le_xy(curve: Curve, bytes: &[u8]) -> Result<PublicKey, GostError> {
        if bytes.len() != 64 {
            return Err(GostError::BadPublicKey);
        }
        let x = U256::from_le_slice(&bytes[..32]);
        let y = U256::from_le_slice(&bytes[32..]);
        PublicKey::from_affine(curve, x, y)
    }

    fn from_affine(curve: Curve, x: U256, y: U256) -> Result<PublicKey, GostError> {
        let p = &curve.params.p;
        if !x.cmp_vartime(p).is_lt() || !y.cmp_vartime(p).is_lt() || !curve.on_curve(&x, &y) {
            return Err(GostError::BadPublicKey);
        }
        let point = Point {
            x: curve.fe(&x),
            y: curve.fe(&y),
            z: Fe::one(&curve.fp),
        };
        // q·Q must be the identity: rules out points of small order on curves with a cofactor
        // (TC26 paramSetA has cofactor 4).
        if curve.to_affine(&curve.mul(&point, &curve.q)).is_some() {
            return Err(GostError::BadPublicKey);
        }
        Ok(PublicKey { curve, x, y })
    }

    /// The key as 64 bytes `X || Y`, each little-endian (the certificate encoding).
    pub fn to_le_xy(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&le_bytes(&self.x));
        out[32..].copy_from_slice(&le_bytes(&self.y));
        out
    }

    /// The affine coordinates, each big-endian (the way the standard and `openssl -text` print).
    pub fn xy_be(&self) -> ([u8; 32], [u8; 32]) {
        (be_bytes(&self.x), be_bytes(&self.y))
    }

    pub fn curve(&self) -> &Curve {
        &self.curve
    }

    /// Verifies a signature over a 32-byte Streebog-256 digest (as the hash outputs it).
    pub fn verify_digest(&self, digest: &[u8; 32], signature: &Signature) -> bool {
        let c = &self.curve;
        if !c.in_scalar_range(&signature.r) || !c.in_scalar_range(&signature.s) {
            return false;
        }
        let e = c.digest_to_e(digest);
        let e_m = Fe::new(&e, &c.fq);
        let Some(v) = e_m.invert_vartime().into_option() else {
            return false;
        };
        let z1 = Fe::new(&signature.s, &c.fq).mul(&v).retrieve();
        let z2 = Fe::new(&signature.r, &c.fq).neg().mul(&v).retrieve();
        let q_point = Point {
            x: c.fe(&self.x),
            y: c.fe(&self.y),
            z: Fe::one(&c.fp),
        };
        let sum = c.add(&c.mul(&c.generator(), &z1), &c.mul(&q_point, &z2));
        let Some((x, _)) = c.to_affine(&sum) else {
            return false;
        };
        let r = x.rem_vartime(&c.q_nz);
        bool::from(r.ct_eq(&signature.r))
    }

    /// Verifies a signature over `message`: Streebog-256, then [`PublicKey::verify_digest`].
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        self.verify_digest(&streebog256(message), signature)
    }
}

/// A GOST R 34.10-2012 (256) private key `d`, `0 < d < q`.
#[derive(Clone)]
pub struct PrivateKey {
    curve: Curve,
    d: U256,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("curve", &self.curve.params.name)
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// From the 32-byte big-endian `d`.
    pub fn from_be_bytes(curve: Curve, bytes: &[u8]) -> Result<PrivateKey, GostError> {
        if bytes.len() != 32 {
            return Err(GostError::BadPrivateKey);
        }
        let d = U256::from_be_slice(bytes);
        if !curve.in_scalar_range(&d) {
            return Err(GostError::BadPrivateKey);
        }
        Ok(PrivateKey { curve, d })
    }

    /// A fresh random key on `curve`.
    pub fn generate(curve: Curve) -> PrivateKey {
        let d = random_scalar(&curve);
        PrivateKey { curve, d }
    }

    /// `d` as 32 big-endian bytes.
    pub fn to_be_bytes(&self) -> [u8; 32] {
        be_bytes(&self.d)
    }

    /// `Q = d·G`.
    pub fn public_key(&self) -> PublicKey {
        let c = &self.curve;
        let q = c.mul(&c.generator(), &self.d);
        // d is in [1, q-1] and G has order q, so Q is never the identity.
        let (x, y) = c.to_affine(&q).unwrap_or((U256::ZERO, U256::ZERO));
        PublicKey {
            curve: c.clone(),
            x,
            y,
        }
    }

    /// Signs a 32-byte Streebog-256 digest with a fresh random `k`.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Signature {
        loop {
            let k = random_scalar(&self.curve);
            if let Some(sig) = self.sign_digest_with_k(digest, &k) {
                return sig;
            }
        }
    }

    /// Signs `message`: Streebog-256, then [`PrivateKey::sign_digest`].
    pub fn sign(&self, message: &[u8]) -> Signature {
        self.sign_digest(&streebog256(message))
    }

    /// The signature with a given `k` (the standard's steps 3–6); `None` when `r` or `s` is 0.
    fn sign_digest_with_k(&self, digest: &[u8; 32], k: &U256) -> Option<Signature> {
        let c = &self.curve;
        let e = c.digest_to_e(digest);
        let (x, _) = c.to_affine(&c.mul(&c.generator(), k))?;
        let r = x.rem_vartime(&c.q_nz);
        if bool::from(r.is_zero()) {
            return None;
        }
        let rd = Fe::new(&r, &c.fq).mul(&Fe::new(&self.d, &c.fq));
        let ke = Fe::new(k, &c.fq).mul(&Fe::new(&e, &c.fq));
        let s = rd.add(&ke).retrieve();
        if bool::from(s.is_zero()) {
            return None;
        }
        Some(Signature { r, s })
    }
}

/// A uniformly random scalar in `[1, q-1]` by rejection sampling.
fn random_scalar(curve: &Curve) -> U256 {
    let bits = curve.q.bits_vartime();
    loop {
        let mut bytes = crate::crypto::random_bytes(32);
        // Keep only as many bits as q has, so that a candidate is accepted at least half the time.
        let excess = 256 - bits;
        if let Some(top) = bytes.first_mut() {
            *top &= 0xffu8.checked_shr(excess).unwrap_or(0);
        }
        let k = U256::from_be_slice(&bytes);
        if curve.in_scalar_range(&k) {
            return k;
        }
    }
}

/// A signature `(r, s)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    r: U256,
    s: U256,
}

impl Signature {
    /// From 64 bytes `s || r`, each big-endian (OpenSSL gost-engine, BouncyCastle, ESIA).
    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, GostError> {
        if bytes.len() != 64 {
            return Err(GostError::BadSignature);
        }
        Ok(Signature {
            s: U256::from_be_slice(&bytes[..32]),
            r: U256::from_be_slice(&bytes[32..]),
        })
    }

    /// From the byte-reversed form CryptoPro CSP outputs (`r` little-endian, then `s`).
    pub fn from_reversed(bytes: &[u8]) -> Result<Signature, GostError> {
        let mut b = bytes.to_vec();
        b.reverse();
        Signature::from_bytes(&b)
    }

    /// From the text of a v2/v3 `client_secret`: base64url with or without padding, or standard
    /// base64 (a `+` that arrived unescaped in a query string and became a space counts as `+`).
    pub fn from_base64(text: &str) -> Result<Signature, GostError> {
        use base64::Engine;
        let normalised: String = text
            .trim()
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '+' | ' ' => '-',
                '/' => '_',
                other => other,
            })
            .collect();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(normalised)
            .map_err(|_| GostError::BadSignature)?;
        Signature::from_bytes(&bytes)
    }

    /// base64url without padding of [`Signature::to_bytes`].
    pub fn to_base64url(&self) -> String {
        crate::crypto::b64url(&self.to_bytes())
    }

    /// 64 bytes `s || r`, each big-endian.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&be_bytes(&self.s));
        out[32..].copy_from_slice(&be_bytes(&self.r));
        out
    }

    /// `r` and `s`, big-endian.
    pub fn r_s(&self) -> ([u8; 32], [u8; 32]) {
        (be_bytes(&self.r), be_bytes(&self.s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn digest_from_e(e_be_hex: &str) -> [u8; 32] {
        // The standard prints e (= α here, it is below q) most-significant byte first; the
        // hash output that gives it is the reverse.
        let mut d: [u8; 32] = unhex(e_be_hex).try_into().unwrap();
        d.reverse();
        d
    }

    /// GOST R 34.10-2012 Appendix A.1 (also RFC 7091 §7.1): the 256-bit example.
    #[test]
    fn appendix_a1_example() {
        let curve = Curve::by_oid("1.2.643.2.2.35.0").unwrap();
        let d = unhex("7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28");
        let key = PrivateKey::from_be_bytes(curve.clone(), &d).unwrap();
        let public = key.public_key();
        let (x, y) = public.xy_be();
        assert_eq!(
            hex_upper(&x),
            "7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B"
        );
        assert_eq!(
            hex_upper(&y),
            "26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA"
        );
        let digest =
            digest_from_e("2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5");
        let k =
            U256::from_be_hex("77105C9B20BCD3122823C8CF6FCC7B956DE33814E95B7FE64FED924594DCEAB3");
        let sig = key.sign_digest_with_k(&digest, &k).unwrap();
        let (r, s) = sig.r_s();
        assert_eq!(
            hex_upper(&r),
            "41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493"
        );
        assert_eq!(
            hex_upper(&s),
            "01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40"
        );
        // Wire order s || r, big-endian halves.
        let bytes = sig.to_bytes();
        assert_eq!(&bytes[..32], &s);
        assert_eq!(&bytes[32..], &r);
        assert!(public.verify_digest(&digest, &Signature::from_bytes(&bytes).unwrap()));
        // CryptoPro's reversed order.
        let mut reversed = bytes;
        reversed.reverse();
        assert_eq!(Signature::from_reversed(&reversed).unwrap(), sig);
        // Another digest, another key, swapped halves: all rejected.
        let mut other = digest;
        other[0] ^= 1;
        assert!(!public.verify_digest(&other, &sig));
        let stranger = PrivateKey::generate(curve.clone()).public_key();
        assert!(!stranger.verify_digest(&digest, &sig));
        let mut swapped = [0u8; 64];
        swapped[..32].copy_from_slice(&r);
        swapped[32..].copy_from_slice(&s);
        assert!(!public.verify_digest(&digest, &Signature::from_bytes(&swapped).unwrap()));
        // The public key round-trips through the certificate encoding.
        let again = PublicKey::from_le_xy(curve, &public.to_le_xy()).unwrap();
        assert_eq!(again.xy_be(), public.xy_be());
    }

    /// GOST R 34.11-2012 Appendix A, message M1 (63 bytes "0123…012"), 256-bit hash. The
    /// standard prints the hash reversed: 00557BE5…1E159D.
    #[test]
    fn streebog_m1() {
        let m1 = b"012345678901234567890123456789012345678901234567890123456789012";
        let mut expected =
            unhex("00557BE5E584FD52A449B16B0251D05D27F94AB76CBAA6DA890B59D8EF1E159D");
        expected.reverse();
        assert_eq!(streebog256(m1).to_vec(), expected);
    }

    #[test]
    fn sign_and_verify_on_every_curve() {
        for params in CURVES {
            let curve = Curve::by_name(params.name).unwrap();
            // The base point is on the curve and of order q.
            let g = PublicKey::from_affine(curve.clone(), params.x, params.y);
            assert!(g.is_ok(), "{}", params.name);
            let key = PrivateKey::generate(curve);
            let public = key.public_key();
            let sig = key.sign(b"client_id scope timestamp state");
            assert!(
                public.verify(b"client_id scope timestamp state", &sig),
                "{}",
                params.name
            );
            assert!(
                !public.verify(b"client_id scope timestamp stale", &sig),
                "{}",
                params.name
            );
        }
    }

    #[test]
    fn base64_variants() {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
        let curve = Curve::by_oid("1.2.643.7.1.2.1.1.1").unwrap();
        // Find a signature whose encoding has both '+'/'-' and '/'/'_' characters.
        let key = PrivateKey::generate(curve);
        let sig = (0..1000)
            .map(|_| key.sign(b"m"))
            .find(|s| {
                let t = STANDARD.encode(s.to_bytes());
                t.contains('+') && t.contains('/')
            })
            .unwrap();
        let bytes = sig.to_bytes();
        for text in [
            STANDARD.encode(bytes),
            URL_SAFE.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
            sig.to_base64url(),
            STANDARD.encode(bytes).replace('+', " "),
        ] {
            assert_eq!(Signature::from_base64(&text).unwrap(), sig, "{text}");
        }
        assert!(Signature::from_base64("not base64!").is_err());
        assert!(Signature::from_base64(&URL_SAFE_NO_PAD.encode([0u8; 63])).is_err());
    }

    #[test]
    fn rejects_malformed_inputs() {
        let curve = Curve::by_oid("1.2.643.7.1.2.1.1.1").unwrap();
        assert_eq!(Curve::by_oid("1.2.3").unwrap_err(), GostError::UnknownCurve);
        // A point not on the curve.
        let mut bytes = PrivateKey::generate(curve.clone()).public_key().to_le_xy();
        bytes[40] ^= 1;
        assert!(PublicKey::from_le_xy(curve.clone(), &bytes).is_err());
        assert!(PublicKey::from_le_xy(curve.clone(), &bytes[..63]).is_err());
        // d = 0 and d = q.
        assert!(PrivateKey::from_be_bytes(curve.clone(), &[0u8; 32]).is_err());
        assert!(PrivateKey::from_be_bytes(curve.clone(), &curve.order()).is_err());
        // r = 0, s = q.
        let key = PrivateKey::generate(curve.clone());
        let public = key.public_key();
        let mut sig = key.sign(b"m").to_bytes();
        sig[32..].fill(0);
        assert!(!public.verify(b"m", &Signature::from_bytes(&sig).unwrap()));
        let mut sig = key.sign(b"m").to_bytes();
        sig[..32].copy_from_slice(&curve.order());
        assert!(!public.verify(b"m", &Signature::from_bytes(&sig).unwrap()));
        assert!(Signature::from_bytes(&[0u8; 63]).is_err());
    }
}
