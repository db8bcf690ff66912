//! Read tokens, in a tree of their own.

use super::*;

impl TokenStore for SledStore {
    fn put_token(&self, hash: [u8; 32], record: &TokenRecord) -> Result<(), StoreError> {
        let written = (|| {
            let database = self.database()?;
            self.poison_on_err(database.tokens.insert(hash, record.encode()).map_err(io))?;
            self.poison_on_err(self.sync(&database))
        })();
        self.after_failure(written)
    }

    fn tokens(&self) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.database()?.tokens.iter() {
            let (key, value) = kv.map_err(io)?;
            let hash: [u8; 32] =
                key.as_ref().try_into().map_err(|_| StoreError::Malformed("token key is not 32 bytes".into()))?;
            out.push((hash, TokenRecord::decode(&value)?));
        }
        Ok(out)
    }
}
