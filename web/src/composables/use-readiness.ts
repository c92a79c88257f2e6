import { onBeforeUnmount, onMounted, ref, shallowRef } from 'vue';

import { ApiError } from '../api/client';
import { fetchReadiness, type ReadinessReport } from '../api/readiness';

/** `loaded` means the probe responded, although the report status may still be `not_ready`. */
export type ReadinessState = 'loading' | 'loaded' | 'error';

/** Fetches `GET /readyz` when the component mounts and on each `refresh()`. */
export function useReadiness() {
  const state = ref<ReadinessState>('loading');
  const report = shallowRef<ReadinessReport>();
  const error = shallowRef<ApiError>();
  const checkedAt = shallowRef<Date>();
  let controller: AbortController | undefined;

  async function refresh(): Promise<void> {
    // A newer check replaces one still in flight, so a slow response cannot overwrite a fresh one.
    controller?.abort();
    const current = new AbortController();
    controller = current;
    state.value = 'loading';

    try {
      report.value = await fetchReadiness(current.signal);
      checkedAt.value = new Date();
      error.value = undefined;
      state.value = 'loaded';
    } catch (caught) {
      if (current.signal.aborted) return;

      error.value = caught instanceof ApiError ? caught : new ApiError('UNEXPECTED_RESPONSE', String(caught));
      state.value = 'error';
    }
  }

  onMounted(refresh);
  onBeforeUnmount(() => controller?.abort());

  return { state, report, error, checkedAt, refresh };
}
