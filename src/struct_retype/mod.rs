//! placeholder
use crate::parse::Parsed;
use crate::rule::Retype;
use crate::struct_to_ops::FileResult;
pub fn migrate(_k: &Retype, _src: &[u8], _p: &Parsed) -> FileResult {
    FileResult::default()
}
