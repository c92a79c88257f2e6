import { onMounted, ref, shallowRef, type Ref } from 'vue';

/** Runs a loader on mount and on `reload()`, exposing the state AsyncState shows. */
export function useLoad<T>(loader: () => Promise<T>): {
  data: Ref<T | undefined>;
  state: Ref<'idle' | 'loading' | 'loaded' | 'error'>;
  error: Ref<unknown>;
  reload: () => Promise<void>;
} {
  const data = shallowRef<T>();
  const state = ref<'idle' | 'loading' | 'loaded' | 'error'>('idle');
  const error = shallowRef<unknown>();

  async function reload(): Promise<void> {
    state.value = 'loading';
    try {
      data.value = await loader();
      state.value = 'loaded';
    } catch (caught) {
      error.value = caught;
      state.value = 'error';
    }
  }

  onMounted(reload);
  return { data, state, error, reload };
}
