import { ref } from 'vue';
import { errorMessage } from '../lib/api-error';
import { useStatusStore } from '../stores/status-store';

/** What a form's validator answers: a config to send, or the field to mark and why. */
export type Checked<C> = { ok: true; config: C } | { ok: false; field: string; message: string };

/**
 * Validate-then-send for a form that starts a job (New run, Evaluate): the message and the field to
 * mark come from the validator, or from the lab's refusal (`fieldOfError` maps its text to a field),
 * and `starting` is true while the request is out.
 */
export function useFormSubmit<C>(options: {
  validate: () => Checked<C>;
  send: (config: C) => Promise<unknown>;
  fieldOfError: (message: string) => string | null;
}) {
  const error = ref<string | null>(null);
  const errorField = ref<string | null>(null);
  const starting = ref(false);

  const invalid = (field: string): boolean => errorField.value === field;

  function clearError(): void {
    error.value = null;
    errorField.value = null;
  }

  async function start(): Promise<void> {
    clearError();
    const result = options.validate();
    if (!result.ok) {
      error.value = result.message;
      errorField.value = result.field;
      return;
    }
    starting.value = true;
    try {
      await options.send(result.config);
    } catch (e) {
      error.value = errorMessage(e);
      errorField.value = options.fieldOfError(error.value);
      useStatusStore().noteFailure(e);
    } finally {
      starting.value = false;
    }
  }

  return { error, errorField, starting, invalid, clearError, start };
}
