// The page: the credential form until there is a credential, then the room.
import { useState } from 'preact/hooks';
import { forgetTarget, saveTarget, type Target } from '../credential.js';
import { CredentialForm } from './CredentialForm.js';
import { Room } from './Room.js';

export function App({ initial, storage }: { initial: Target; storage: Storage }) {
  const [target, setTarget] = useState(initial);
  const [error, setError] = useState<string | undefined>();
  if (!target.token) {
    return (
      <CredentialForm
        error={error}
        onSubmit={(t) => {
          saveTarget(storage, t);
          setError(undefined);
          setTarget(t);
        }}
      />
    );
  }
  return (
    <Room
      key={target.token}
      target={{ ...target, token: target.token }}
      onRejected={(reason) => {
        forgetTarget(storage);
        setError(reason);
        setTarget({ token: undefined, room: undefined, channel: undefined, thread: undefined });
      }}
    />
  );
}
