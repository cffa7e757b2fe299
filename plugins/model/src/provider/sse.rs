//! Server-sent events as OpenAI streams them: `data: {json}` lines, blank
//! lines between events, `data: [DONE]` at the end. Each `data:` line is
//! one event (OpenAI never splits one over several lines); comments and
//! other fields are ignored.

use serde_json::Value;

use super::{ProviderError, ProviderEvent};
use crate::Usage;

/// Bytes in, events out; keeps a partial line between reads.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buffer: Vec<u8>,
    /// `data: [DONE]` was seen.
    pub(crate) done: bool,
}

/// Longest line accepted, so a broken server cannot grow the buffer forever.
const MAX_LINE: usize = 1 << 20;

impl SseParser {
    /// Feeds bytes; returns the events of every complete line.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<Vec<ProviderEvent>, ProviderError> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = std::str::from_utf8(&line)
                .map_err(|_| ProviderError::Malformed("SSE line is not UTF-8".into()))?
                .trim_end_matches(['\n', '\r']);
            if self.done {
                continue;
            }
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let data = data.trim_start();
            if data == "[DONE]" {
                self.done = true;
                continue;
            }
            events.extend(parse_chunk(data)?);
        }
        if self.buffer.len() > MAX_LINE {
            return Err(ProviderError::Malformed("SSE line too long".into()));
        }
        Ok(events)
    }
}

fn parse_chunk(data: &str) -> Result<Vec<ProviderEvent>, ProviderError> {
    let chunk: Value = serde_json::from_str(data)
        .map_err(|e| ProviderError::Malformed(format!("SSE data is not JSON: {e}")))?;
    let mut events = Vec::new();
    let choice = &chunk["choices"][0];
    if let Some(text) = choice["delta"]["content"].as_str()
        && !text.is_empty()
    {
        events.push(ProviderEvent::Delta(text.to_string()));
    }
    if let Some(reason) = choice["finish_reason"].as_str() {
        events.push(ProviderEvent::Finish(reason.to_string()));
    }
    if let Some(usage) = parse_usage(&chunk["usage"]) {
        events.push(ProviderEvent::Usage(usage));
    }
    Ok(events)
}

/// OpenAI's `usage` object, when present.
pub(crate) fn parse_usage(usage: &Value) -> Option<Usage> {
    let input = usage["prompt_tokens"].as_u64()?;
    let output = usage["completion_tokens"].as_u64().unwrap_or(0);
    Some(Usage {
        input_tokens: u32::try_from(input).unwrap_or(u32::MAX),
        output_tokens: u32::try_from(output).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_split_lines_usage_and_done() {
        let mut p = SseParser::default();
        let mut events = p
            .feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"Hel")
            .unwrap();
        assert!(events.is_empty());
        events.extend(p.feed(b"lo\"}}]}\n\n: comment\n").unwrap());
        events.extend(
            p.feed(b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\r\n\r\ndata: [DONE]\n\n")
                .unwrap(),
        );
        assert_eq!(
            events,
            vec![
                ProviderEvent::Delta("Hello".into()),
                ProviderEvent::Usage(Usage {
                    input_tokens: 3,
                    output_tokens: 1
                })
            ]
        );
        assert!(p.done);
        assert!(matches!(
            SseParser::default().feed(b"data: {nope\n"),
            Err(ProviderError::Malformed(_))
        ));
    }
}
