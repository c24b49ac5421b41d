//! Record-batch compression codecs, for the rare paths that must look inside a compressed
//! batch (the log cleaner). Produce and fetch never decompress.
//!
//! Codec ids are the batch attribute bits 0-2: 0 none, 1 gzip, 2 snappy, 3 lz4 (frame
//! format), 4 zstd. Snappy comes in two framings: raw blocks, or the "xerial" stream of the
//! Java client (`82 'SNAPPY' 00`, version and compat words, then `u32` length-prefixed raw
//! blocks); both are read, and [`compress`] writes the framing the batch came with.
//!
//! Decompression is bounded: output beyond `limit` bytes is an error, never an allocation,
//! so a small batch cannot expand into gigabytes ("zip bomb").

use std::io::{self, Read, Write};

pub const NONE: i16 = 0;
pub const GZIP: i16 = 1;
pub const SNAPPY: i16 = 2;
pub const LZ4: i16 = 3;
pub const ZSTD: i16 = 4;

const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const XERIAL_HEADER_LEN: usize = 16;

fn too_large(limit: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("decompressed records exceed {limit} bytes"),
    )
}

/// Reads all of `r`, failing once more than `limit` bytes come out.
fn read_bounded(r: impl Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    r.take(limit as u64 + 1).read_to_end(&mut out)?;
    if out.len() > limit {
        return Err(too_large(limit));
    }
    Ok(out)
}

fn snappy_block(block: &[u8], limit: usize, out: &mut Vec<u8>) -> io::Result<()> {
    let len = snap::raw::decompress_len(block).map_err(io::Error::other)?;
    if out.len() + len > limit {
        return Err(too_large(limit));
    }
    let start = out.len();
    out.resize(start + len, 0);
    let n = snap::raw::Decoder::new()
        .decompress(block, &mut out[start..])
        .map_err(io::Error::other)?;
    out.truncate(start + n);
    Ok(())
}

/// Whether snappy data uses the xerial framing.
pub fn is_xerial(data: &[u8]) -> bool {
    data.len() >= XERIAL_HEADER_LEN && data[..8] == XERIAL_MAGIC
}

/// Decompresses the records section of a batch compressed with `codec`, at most `limit`
/// bytes of output.
pub fn decompress(codec: i16, data: &[u8], limit: usize) -> io::Result<Vec<u8>> {
    match codec {
        NONE => {
            if data.len() > limit {
                return Err(too_large(limit));
            }
            Ok(data.to_vec())
        }
        GZIP => read_bounded(flate2::read::MultiGzDecoder::new(data), limit),
        SNAPPY if is_xerial(data) => {
            let mut out = Vec::new();
            let mut rest = &data[XERIAL_HEADER_LEN..];
            while !rest.is_empty() {
                if rest.len() < 4 {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "torn block"));
                }
                let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
                let block = rest
                    .get(4..4 + len)
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "torn block"))?;
                snappy_block(block, limit, &mut out)?;
                rest = &rest[4 + len..];
            }
            Ok(out)
        }
        SNAPPY => {
            let mut out = Vec::new();
            snappy_block(data, limit, &mut out)?;
            Ok(out)
        }
        LZ4 => read_bounded(lz4::Decoder::new(data)?, limit),
        ZSTD => read_bounded(zstd::stream::read::Decoder::new(data)?, limit),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unknown compression codec {other}"),
        )),
    }
}

/// Compresses records with `codec` at each codec's default level (what clients use). For
/// snappy, `xerial` picks the framing.
pub fn compress(codec: i16, data: &[u8], xerial: bool) -> io::Result<Vec<u8>> {
    compress_at(codec, data, xerial, None)
}

/// [`compress`] at a `level` (Kafka's `compression.<codec>.level`: gzip -1 or 1-9, lz4 1-17,
/// zstd -131072 to 22); None or another codec: the default.
pub fn compress_at(
    codec: i16,
    data: &[u8],
    xerial: bool,
    level: Option<i32>,
) -> io::Result<Vec<u8>> {
    match codec {
        NONE => Ok(data.to_vec()),
        GZIP => {
            let level = match level {
                Some(l @ 1..=9) => flate2::Compression::new(l as u32),
                _ => flate2::Compression::default(),
            };
            let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
            e.write_all(data)?;
            e.finish()
        }
        SNAPPY => {
            let mut enc = snap::raw::Encoder::new();
            if !xerial {
                return enc.compress_vec(data).map_err(io::Error::other);
            }
            let mut out = Vec::with_capacity(data.len() / 2 + XERIAL_HEADER_LEN);
            out.extend_from_slice(&XERIAL_MAGIC);
            out.extend_from_slice(&1u32.to_be_bytes());
            out.extend_from_slice(&1u32.to_be_bytes());
            // The Java client's block size.
            for chunk in data.chunks(32 * 1024) {
                let block = enc.compress_vec(chunk).map_err(io::Error::other)?;
                out.extend_from_slice(&(block.len() as u32).to_be_bytes());
                out.extend_from_slice(&block);
            }
            Ok(out)
        }
        LZ4 => {
            let mut b = lz4::EncoderBuilder::new();
            b.block_mode(lz4::BlockMode::Independent);
            if let Some(l) = level {
                b.level(l.clamp(0, 16) as u32);
            }
            let mut e = b.build(Vec::new())?;
            e.write_all(data)?;
            let (out, result) = e.finish();
            result.map(|_| out)
        }
        ZSTD => zstd::stream::encode_all(data, level.unwrap_or(3)),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unknown compression codec {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_round_trips_and_is_bounded() {
        let data: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_be_bytes())
            .collect();
        for (codec, xerial) in [
            (NONE, false),
            (GZIP, false),
            (SNAPPY, false),
            (SNAPPY, true),
            (LZ4, false),
            (ZSTD, false),
        ] {
            let packed = compress(codec, &data, xerial).unwrap();
            assert_eq!(is_xerial(&packed), xerial && codec == SNAPPY);
            assert_eq!(
                decompress(codec, &packed, data.len()).unwrap(),
                data,
                "{codec}"
            );
            let err = decompress(codec, &packed, data.len() - 1).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{codec}: {err}");
        }
        // A "bomb": 64 MiB of zeros in a few KiB is refused at a 1 MiB limit.
        let zeros = vec![0u8; 64 << 20];
        let bomb = compress(GZIP, &zeros, false).unwrap();
        assert!(bomb.len() < 128 << 10);
        assert!(decompress(GZIP, &bomb, 1 << 20).is_err());
        assert!(decompress(7, &bomb, 1 << 20).is_err());
        assert!(decompress(LZ4, b"garbage", 1 << 20).is_err());
    }
}
